package controllers

import (
	"context"
	"maps"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// violationStore keeps the latest connectivity violations concerning each service, by kind.
type violationStore struct {
	mu     sync.Mutex
	byKind map[string]map[audit.ViolationKind]int
}

// record stores the violations of a report that concern service (a "namespace/name" key).
func (v *violationStore) record(key string, violations []audit.Violation, service string) {
	counts := map[audit.ViolationKind]int{}
	for _, x := range violations {
		if x.Service == service {
			counts[x.Kind]++
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byKind == nil {
		v.byKind = map[string]map[audit.ViolationKind]int{}
	}
	v.byKind[key] = counts
}

func (v *violationStore) forget(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.byKind, key)
}

func (v *violationStore) snapshot() map[string]map[audit.ViolationKind]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.byKind)
}

var (
	servicesDesc = prometheus.NewDesc("smartcity_publicservices",
		"PublicServices by condition type and status.", []string{"condition", "status"}, nil)
	violationsDesc = prometheus.NewDesc("smartcity_connectivity_violations",
		"Connectivity violations (effective flows that differ from intent) by kind, over all PublicServices.",
		[]string{"kind"}, nil)
)

// Collector returns the collector of the city's metrics: the PublicServices per condition,
// read through reader at scrape time, and the violations found by the connectivity
// controller's verifications (none when connectivity is nil: verification is off). The
// caller registers it once (main.go, with controller-runtime's registry).
func Collector(reader client.Reader, connectivity *ConnectivityReconciler) prometheus.Collector {
	c := &cityCollector{reader: reader}
	if connectivity != nil {
		c.violations = &connectivity.violations
	}
	return c
}

// cityCollector exports, at scrape time, the PublicServices per condition (from the cache)
// and the violations found by the last connectivity verification of each existing service.
type cityCollector struct {
	reader     client.Reader
	violations *violationStore // nil when verification is off
}

// Describe implements prometheus.Collector.
func (c *cityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- servicesDesc
	if c.violations != nil {
		ch <- violationsDesc
	}
}

// Collect implements prometheus.Collector.
func (c *cityCollector) Collect(ch chan<- prometheus.Metric) {
	list := &platformv1alpha1.PublicServiceList{}
	if err := c.reader.List(context.Background(), list); err != nil {
		ch <- prometheus.NewInvalidMetric(servicesDesc, err)
		return
	}
	types := []string{platformv1alpha1.ConditionReady, platformv1alpha1.ConditionAvailable, platformv1alpha1.ConditionNetworkIsolated,
		platformv1alpha1.ConditionDependenciesSatisfied, platformv1alpha1.ConditionConnectivityVerified}
	counts := map[[2]string]int{}
	for _, t := range types {
		for _, s := range []string{"True", "False", "Unknown"} {
			counts[[2]string{t, s}] = 0
		}
	}
	existing := sets.New[string]()
	for i := range list.Items {
		svc := &list.Items[i]
		existing.Insert(svc.Namespace + "/" + svc.Name)
		for _, t := range types {
			status := "Unknown"
			if cond := meta.FindStatusCondition(svc.Status.Conditions, t); cond != nil {
				status = string(cond.Status)
			}
			counts[[2]string{t, status}]++
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(servicesDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
	if c.violations == nil {
		return
	}
	kinds := map[audit.ViolationKind]int{audit.TooOpen: 0, audit.TooClosed: 0, audit.Unisolated: 0, audit.OneSided: 0}
	for key, byKind := range c.violations.snapshot() {
		if !existing.Has(key) {
			continue
		}
		for k, n := range byKind {
			kinds[k] += n
		}
	}
	for k, n := range kinds {
		ch <- prometheus.MustNewConstMetric(violationsDesc, prometheus.GaugeValue, float64(n), string(k))
	}
}
