// Package testutil builds API objects for tests in a few chained calls, for example
// testutil.PublicService("vneid", "identity").Profile(platformv1alpha1.ProfileIdentityVerification).Obj().
// Only tests import it.
package testutil
