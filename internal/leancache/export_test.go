package leancache

// ForgetShared empties the table of shared label sets, for tests and benchmarks that measure
// from an empty table.
func ForgetShared() {
	labelSets.mu.Lock()
	defer labelSets.mu.Unlock()
	labelSets.byKey = nil
}
