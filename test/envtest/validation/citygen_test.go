package validation

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

// The benchmark's generated cities pass the CRDs' validation: every zone and every service of
// a city, created with a server-side dry run (the services in the suite's namespace: no rule
// reads the namespace). Both are beyond the API's old limits: a hub admits hundreds of
// consumers through namespace entries.
var _ = Describe("Generated cities (internal/citygen)", func() {
	for _, opts := range []citygen.Options{
		{Services: 1700, Seed: 1},
		{Services: 440, Shape: citygen.ShapeCrowded, Seed: 2},
	} {
		It(fmt.Sprintf("accepts every object of a city of %d services, shape %s", opts.Services, opts.Shape), func(ctx SpecContext) {
			city, err := citygen.Generate(opts)
			Expect(err).NotTo(HaveOccurred())
			Expect(city.Stats.HubConsumers).To(BeNumerically(">", 64), "the hub's consumers fit in the old status list")
			for i := range city.Zones {
				Expect(k8sClient.Create(ctx, city.Zones[i].DeepCopy(), client.DryRunAll)).To(Succeed(), "zone %s", city.Zones[i].Name)
			}
			for i := range city.Services {
				svc := city.Services[i].DeepCopy()
				id := svc.Namespace + "/" + svc.Name
				svc.Namespace = testNamespace
				Expect(k8sClient.Create(ctx, svc, client.DryRunAll)).To(Succeed(), "service %s", id)
			}
		})
	}
})
