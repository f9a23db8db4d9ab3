package metricsauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

func TestTransient(t *testing.T) {
	gr := schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{name: "no error", err: nil, want: false},
		{name: "429", err: apierrors.NewTooManyRequests("slow down", 1), want: true},
		{name: "500", err: apierrors.NewInternalError(errors.New("boom")), want: true},
		{name: "503", err: apierrors.NewServiceUnavailable("down"), want: true},
		{name: "504", err: apierrors.NewTimeoutError("slow", 1), want: true},
		{name: "wrapped 500", err: fmt.Errorf("review: %w", apierrors.NewInternalError(errors.New("boom"))), want: true},
		{name: "connection refused", err: &url.Error{Op: "Post", URL: "https://api", Err: syscall.ECONNREFUSED}, want: true},
		{name: "connection reset", err: fmt.Errorf("read: %w", syscall.ECONNRESET), want: true},
		{name: "403: the operator may not create reviews", err: apierrors.NewForbidden(gr, "", errors.New("RBAC")), want: false},
		{name: "401", err: apierrors.NewUnauthorized("who are you"), want: false},
		{name: "400", err: apierrors.NewBadRequest("bad"), want: false},
		{name: "the review's timeout", err: fmt.Errorf("post: %w", context.DeadlineExceeded), want: false},
		{name: "the scraper hung up", err: &url.Error{Op: "Post", URL: "https://api", Err: context.Canceled}, want: false},
		{name: "anything else", err: errors.New("cannot decode"), want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transient(tc.err); got != tc.want {
				t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestWithRetries(t *testing.T) {
	fast := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 5}
	internal := apierrors.NewInternalError(errors.New("boom"))
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "tokenreviews"}, "", errors.New("RBAC"))
	for _, tc := range []struct {
		name      string
		errs      []error // what the calls return, in turn; nil once they are used up
		wantCalls int
		wantErr   error
	}{
		{name: "success at once", errs: nil, wantCalls: 1},
		{name: "a 500, then success", errs: []error{internal}, wantCalls: 2},
		{name: "a 403 is not retried", errs: []error{forbidden}, wantCalls: 1, wantErr: forbidden},
		{name: "500s until the backoff runs out", errs: []error{internal, internal, internal, internal, internal, internal}, wantCalls: 5, wantErr: internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := withRetries(t.Context(), fast, func(context.Context) error {
				calls++
				if calls <= len(tc.errs) {
					return tc.errs[calls-1]
				}
				return nil
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) {
				t.Errorf("withRetries made %d calls and returned %v; want %d calls and %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
	t.Run("a cancelled context ends the retries", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		err := withRetries(ctx, fast, func(context.Context) error {
			calls++
			cancel()
			return internal
		})
		if calls != 1 || !errors.Is(err, internal) {
			t.Errorf("withRetries made %d calls and returned %v; want 1 call and the 500", calls, err)
		}
	})
}
