//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The operator's Deployment and the label of its pods, as config/default installs them
// (hack/kind/deploy.sh).
const (
	inClusterDeployment = "smartcity-controller-manager"
	deletionCostKey     = "controller.kubernetes.io/pod-deletion-cost"
)

// InClusterDriver runs the operator as the pods of its Deployment (make kind-deploy). Replica i
// is the i-th pod Start saw become Ready. Kill removes that very pod for good: it is made the
// cheapest to delete and the Deployment is scaled down by one, so the ReplicaSet deletes it
// (SIGTERM, with the pod's grace period) and replaces nothing; SIGKILL then deletes it with grace
// period 0. The leader is the pod named in the Lease's holder identity.
type InClusterDriver struct {
	cfg  DriverConfig
	c    client.Client
	pods []string // the replicas, by index
}

func newInClusterDriver(cfg DriverConfig) (*InClusterDriver, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := client.New(rc, client.Options{})
	if err != nil {
		return nil, err
	}
	return &InClusterDriver{cfg: cfg, c: c}, nil
}

// Name implements Driver.
func (d *InClusterDriver) Name() string {
	return "in-cluster Deployment " + d.cfg.Namespace + "/" + inClusterDeployment
}

func (d *InClusterDriver) scale(ctx context.Context, replicas int32) error {
	dep := &appsv1.Deployment{}
	if err := d.c.Get(ctx, client.ObjectKey{Namespace: d.cfg.Namespace, Name: inClusterDeployment}, dep); err != nil {
		return fmt.Errorf("the operator's Deployment (make kind-deploy): %w", err)
	}
	patch := client.MergeFrom(dep.DeepCopy())
	dep.Spec.Replicas = &replicas
	return d.c.Patch(ctx, dep, patch)
}

// operatorPods are the operator's pods that are not being deleted, with whether each is Ready.
func (d *InClusterDriver) operatorPods(ctx context.Context) (map[string]bool, error) {
	pods := &corev1.PodList{}
	if err := d.c.List(ctx, pods, client.InNamespace(d.cfg.Namespace), client.MatchingLabels{"control-plane": "controller-manager"}); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out[p.Name] = podReady(p)
		}
	}
	return out, nil
}

// Start implements Driver: scale to 0, wait until no pod is left, scale to replicas, and wait
// until that many pods are Ready (the readiness probe: healthy, not necessarily leading).
func (d *InClusterDriver) Start(ctx context.Context, replicas int) error {
	if running, err := d.Running(ctx); err != nil {
		return err
	} else if len(running) > 0 {
		return fmt.Errorf("replicas %v still run; Stop or Kill them first", running)
	}
	if err := d.Stop(ctx); err != nil {
		return err
	}
	if err := d.scale(ctx, int32(replicas)); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := d.operatorPods(ctx)
		if err != nil || len(pods) != replicas {
			return false, nil //nolint:nilerr // transient: poll again
		}
		d.pods = d.pods[:0]
		for name, ready := range pods {
			if !ready {
				return false, nil
			}
			d.pods = append(d.pods, name)
		}
		slices.Sort(d.pods)
		return true, nil
	})
}

// Kill implements Driver.
func (d *InClusterDriver) Kill(ctx context.Context, i int, sig syscall.Signal) error {
	if i < 0 || i >= len(d.pods) {
		return fmt.Errorf("no replica %d", i)
	}
	name := d.pods[i]
	pod := &corev1.Pod{}
	if err := d.c.Get(ctx, client.ObjectKey{Namespace: d.cfg.Namespace, Name: name}, pod); err != nil {
		return fmt.Errorf("replica %d (%s): %w", i, name, err)
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGTERM {
		return fmt.Errorf("the in-cluster driver sends SIGKILL or SIGTERM only, not %v", sig)
	}
	if sig == syscall.SIGKILL {
		// A pod deletion, even with grace 0, lets the kubelet send SIGTERM first, and the
		// operator then releases its Lease. A hard kill goes through the node's runtime.
		if err := hardKill(ctx, pod); err != nil {
			return fmt.Errorf("replica %d (%s): %w", i, name, err)
		}
	}
	patch := client.MergeFrom(pod.DeepCopy())
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[deletionCostKey] = "-1000000"
	if err := d.c.Patch(ctx, pod, patch); err != nil {
		return err
	}
	pods, err := d.operatorPods(ctx)
	if err != nil {
		return err
	}
	// Scale down by one: the ReplicaSet deletes the cheapest pod, this one, with its grace
	// period (SIGTERM) and starts no replacement; SIGKILL then deletes it at once.
	if err := d.scale(ctx, int32(len(pods)-1)); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		if err := d.c.Delete(ctx, pod, client.GracePeriodSeconds(0)); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := d.c.Get(ctx, client.ObjectKey{Namespace: d.cfg.Namespace, Name: name}, &corev1.Pod{})
		return apierrors.IsNotFound(err), nil
	})
}

// Running implements Driver: the indexes whose pod still runs (pods that this driver did not
// start, such as make kind-deploy's, have no index; Start scales them away).
func (d *InClusterDriver) Running(ctx context.Context) ([]int, error) {
	pods, err := d.operatorPods(ctx)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, name := range d.pods {
		if _, ok := pods[name]; ok {
			out = append(out, i)
		}
	}
	return out, nil
}

// Leader implements Driver: the replica whose pod name starts the Lease's holder identity
// (controller-runtime's identity is "<hostname>_<uuid>", and a pod's hostname is its name).
func (d *InClusterDriver) Leader(ctx context.Context) (int, error) {
	lease := &coordinationv1.Lease{}
	if err := d.c.Get(ctx, client.ObjectKey{Namespace: d.cfg.Namespace, Name: leaseName}, lease); err != nil {
		return -1, err
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return -1, fmt.Errorf("the Lease has no holder")
	}
	holder := *lease.Spec.HolderIdentity
	running, err := d.Running(ctx)
	if err != nil {
		return -1, err
	}
	for _, i := range running {
		if i < len(d.pods) && strings.HasPrefix(holder, d.pods[i]+"_") {
			return i, nil
		}
	}
	return -1, fmt.Errorf("the Lease is held by %s, no running replica of this driver", holder)
}

// Logs implements Driver.
func (d *InClusterDriver) Logs(lines int) string {
	var b strings.Builder
	for i, name := range d.pods {
		out, _ := exec.Command("kubectl", "--kubeconfig", d.cfg.Kubeconfig, "-n", d.cfg.Namespace,
			"logs", name, fmt.Sprintf("--tail=%d", lines)).CombinedOutput()
		fmt.Fprintf(&b, "---- replica %d (pod %s) ----\n%s\n", i, name, out)
	}
	return b.String()
}

// Stop implements Driver: scale to 0 and wait until every pod has gone.
func (d *InClusterDriver) Stop(ctx context.Context) error {
	if err := d.scale(ctx, 0); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods := &corev1.PodList{}
		if err := d.c.List(ctx, pods, client.InNamespace(d.cfg.Namespace), client.MatchingLabels{"control-plane": "controller-manager"}); err != nil {
			return false, nil //nolint:nilerr // transient: poll again
		}
		return len(pods.Items) == 0, nil
	})
}

// hardKill stops the pod's containers with SIGKILL at once (crictl stop --timeout 0) on its
// node, through E2E_NODE_EXEC, a command that runs a command on a node given its name first
// ("docker exec" for kind, whose nodes are containers named after them). Without it, a SIGKILL
// is refused rather than silently softened.
func hardKill(ctx context.Context, pod *corev1.Pod) error {
	prefix := strings.Fields(os.Getenv("E2E_NODE_EXEC"))
	if len(prefix) == 0 {
		return fmt.Errorf("a SIGKILL in the cluster needs E2E_NODE_EXEC (for kind: \"docker exec\") to reach the node's runtime")
	}
	node := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, prefix[0], append(append(prefix[1:], pod.Spec.NodeName), args...)...)
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("%s on node %s: %w", strings.Join(args, " "), pod.Spec.NodeName, err)
		}
		return out, nil
	}
	sandboxes, err := node("crictl", "pods", "--namespace", pod.Namespace, "--name", pod.Name, "-q")
	if err != nil {
		return err
	}
	killed := 0
	for sandbox := range strings.FieldsSeq(string(sandboxes)) {
		containers, err := node("crictl", "ps", "-q", "--pod", sandbox)
		if err != nil {
			return err
		}
		for c := range strings.FieldsSeq(string(containers)) {
			if _, err := node("crictl", "stop", "--timeout", "0", c); err != nil {
				return err
			}
			killed++
		}
	}
	if killed == 0 {
		return fmt.Errorf("no running container of pod %s on node %s", pod.Name, pod.Spec.NodeName)
	}
	return nil
}
