package netpol

import "math/bits"

// bitset is a set of workload indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (uint(i) % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(uint(i)%64)) != 0 }

func (b bitset) or(other bitset) {
	for i := range other {
		b[i] |= other[i]
	}
}

// each calls f for every index in the set, in increasing order.
func (b bitset) each(f func(int)) {
	for w, word := range b {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			f(w*64 + i)
			word &= word - 1
		}
	}
}
