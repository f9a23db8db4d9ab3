// Package options holds the command-line options of the operator and of the kubectl city
// plugin, in one place: the render options both binaries share (AddRenderFlags, Validate),
// and the operator's own manager options (AddManagerFlags). Both bind to a pflag FlagSet.
package options
