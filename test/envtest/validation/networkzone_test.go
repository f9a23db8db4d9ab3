package validation

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

// The CEL rules of NetworkZone, by the distinctive part of their messages.
var (
	cidrInvalid        = celRule("spec.cidrs[0]", "each cidrs entry must be a valid CIDR such as 10.20.0.0/16")
	cidrHostBits       = celRule("spec.cidrs[0]", "a cidrs entry must not have host bits set")
	exceptInvalid      = celRule("spec.except[0]", "each except entry must be a valid CIDR such as 10.20.5.0/24")
	exceptOutside      = celRule("spec.except", "every except entry must lie inside one of cidrs")
	zoneNameNotDNS1123 = celRule("<nil>",
		"metadata.name of a NetworkZone must be a DNS-1123 label of at most 63 characters")
)

var networkZoneCases = []validationCase{
	// Each cidrs entry is a valid CIDR...
	accepted("an IPv4 CIDR", networkZone("10.20.0.0/16").Obj(), cidrInvalid),
	accepted("an IPv6 CIDR", networkZone("2001:db8::/32").Obj(), cidrInvalid),
	accepted("the whole IPv4 space and a /32", networkZone("0.0.0.0/0", "10.1.2.3/32").Obj(), cidrInvalid),
	rejected("prefix length 33", networkZone("10.0.0.0/33").Obj(), cidrInvalid),
	rejected("a word", networkZone("not-a-cidr").Obj(), cidrInvalid),
	rejected("an address without prefix length", networkZone("10.0.0.1").Obj(), cidrInvalid),
	rejected("an IPv4 CIDR with leading zeros", networkZone("010.020.0.0/16").Obj(), cidrInvalid),
	// ...with no host bits set.
	accepted("a network address", networkZone("10.1.0.0/16").Obj(), cidrHostBits),
	rejected("an IPv4 CIDR with host bits", networkZone("10.1.2.3/16").Obj(), cidrHostBits),
	rejected("an IPv6 CIDR with host bits", networkZone("2001:db8::1/32").Obj(), cidrHostBits),

	// Each except entry is a valid CIDR...
	accepted("an except entry", networkZone("10.20.0.0/16").Except("10.20.5.0/24").Obj(), exceptInvalid),
	rejected("an except entry that is not a CIDR",
		networkZone("10.20.0.0/16").Except("10.20.5.0").Obj(), exceptInvalid),
	rejected("an invalid cidrs entry in a zone with except entries",
		networkZone("10.20.0.0/33").Except("10.20.5.0/24").Obj(), cidrInvalid, exceptOutside),
	// ...inside one of cidrs.
	accepted("except entries inside different cidrs", networkZone("10.20.0.0/16", "fd00::/48").
		Except("10.20.5.0/24", "fd00:0:0:1::/64").Obj(), exceptOutside),
	accepted("an except entry equal to its cidr", networkZone("10.20.0.0/16", "10.30.0.0/16").
		Except("10.20.0.0/16").Obj(), exceptOutside),
	rejected("an except entry outside cidrs", networkZone("10.20.0.0/16").Except("192.168.0.0/24").Obj(),
		exceptOutside),
	rejected("an except entry wider than its cidr", networkZone("10.20.0.0/16").Except("10.0.0.0/8").Obj(),
		exceptOutside),
	rejected("an IPv6 except entry in an IPv4 zone", networkZone("10.20.0.0/16").Except("fd00::/64").Obj(),
		exceptOutside),

	// metadata.name is a DNS-1123 label of at most 63 characters.
	accepted("a 63-character zone name", networkZone("10.0.0.0/8").Name(name63).Obj(), zoneNameNotDNS1123),
	accepted("a zone name starting with a digit", networkZone("10.0.0.0/8").Name("115-lan").Obj(),
		zoneNameNotDNS1123),
	rejected("a dotted zone name", networkZone("10.0.0.0/8").Name("hospital.lan").Obj(), zoneNameNotDNS1123),
	rejected("a 64-character zone name", networkZone("10.0.0.0/8").Name(name64).Obj(), zoneNameNotDNS1123),
}

// networkZoneSchemaCases probe the OpenAPI bounds (not CEL) of NetworkZone.
var networkZoneSchemaCases = []validationCase{
	accepted("32 cidrs", networkZone(cidrs(32)...).Obj(), schema("spec.cidrs", "must have at most 32 items")),
	rejected("33 cidrs", networkZone(cidrs(33)...).Obj(),
		schema("spec.cidrs", "Too many: 33: must have at most 32 items"), celSkipped),
	rejected("an empty cidrs list", networkZone().Obj(), schema("spec.cidrs", "should have at least 1 items")),
	rejected("no cidrs field", networkZone().WithoutCIDRs().Obj(), schema("spec.cidrs", "Required value"), celSkipped),
	rejected("the same cidr twice", networkZone("10.20.0.0/16", "10.20.0.0/16").Obj(),
		schema("spec.cidrs[1]", duplicate)),
	rejected("the same except entry twice", networkZone("10.20.0.0/16").Except("10.20.5.0/24", "10.20.5.0/24").Obj(),
		schema("spec.except[1]", duplicate)),
	accepted("a cidrs entry of 43 characters", networkZone("2001:0db8:0000:0000:0000:0000:0000:0000/128").Obj(),
		schema("spec.cidrs[0]", "may not be more than 43 bytes")),
	rejected("a cidrs entry of 44 characters", networkZone("2001:0db8:0000:0000:0000:0000:0000:00000/128").Obj(),
		schema("spec.cidrs[0]", "Too long: may not be more than 43 bytes"), celSkipped),
	accepted("a provider of 128 characters", networkZone("10.0.0.0/8").Provider(strings.Repeat("p", 128)).Obj(),
		schema("spec.provider", "may not be more than 128 bytes")),
	rejected("a provider of 129 characters", networkZone("10.0.0.0/8").Provider(strings.Repeat("p", 129)).Obj(),
		schema("spec.provider", "Too long: may not be more than 128 bytes"), celSkipped),
	rejected("a description of 1025 characters", networkZone("10.0.0.0/8").Description(strings.Repeat("d", 1025)).Obj(),
		schema("spec.description", "Too long: may not be more than 1024 bytes"), celSkipped),
}

// cidrs returns n distinct /24 networks.
func cidrs(n int) []string {
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, fmt.Sprintf("10.0.%d.0/24", i))
	}
	return out
}

var _ = Describe("NetworkZone validation", func() {
	DescribeTable("CEL rules", func(ctx SpecContext, c validationCase) {
		expectCase(ctx, c)
	}, entries(networkZoneCases))

	DescribeTable("schema bounds", func(ctx SpecContext, c validationCase) {
		expectCase(ctx, c)
	}, entries(networkZoneSchemaCases))
})
