// Package chart tests the Helm chart charts/smartcity-operator with the helm binary that
// hack/ensure-bins.sh builds (make helm): helm lint, template goldens, a value for every flag of
// the manager's --help, and the defaults rendering the objects of install.yaml.
package chart
