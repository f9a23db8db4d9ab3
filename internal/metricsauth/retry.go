package metricsauth

import (
	"context"
	"errors"
	"net"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
)

// reviewTimeout bounds one review, its retries included, so that a slow API server fails a
// scrape with a 500 rather than holding it open.
const reviewTimeout = 10 * time.Second

// reviewBackoff spaces the retries of a review that failed transiently: the backoff of the API
// server's own authentication and authorization webhooks, which controller-runtime's filter
// uses too (at most five attempts, about four seconds of waiting in all).
var reviewBackoff = wait.Backoff{
	Duration: 500 * time.Millisecond,
	Factor:   1.5,
	Jitter:   0.2,
	Steps:    5,
}

// transient tells whether a failed review is worth retrying: the API server was overloaded
// (429), failed or timed out (5xx), or the connection broke. Anything else (a 403 because the
// operator may not create reviews, a 400, an expired context) would fail the same way again.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code == 429 || code >= 500
	}
	var netErr net.Error
	return errors.As(err, &netErr) || utilnet.IsConnectionReset(err) || utilnet.IsConnectionRefused(err) || utilnet.IsProbableEOF(err)
}

// withRetries calls call until it succeeds, fails for good or backoff runs out, and returns its
// last error. It is client-go's retry.OnError with a context: a scraper that hangs up, or the
// review's timeout, ends the waiting between attempts too.
func withRetries(ctx context.Context, backoff wait.Backoff, call func(context.Context) error) error {
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		last = call(ctx)
		switch {
		case last == nil:
			return true, nil
		case transient(last):
			return false, nil
		default:
			return false, last
		}
	})
	if last != nil {
		return last
	}
	return err
}
