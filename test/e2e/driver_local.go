//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// leaderLogLine is what controller-runtime logs once a replica holds the Lease.
const leaderLogLine = "Successfully acquired lease"

// LocalDriver runs the operator as processes of this machine, the way `make demo` does. The
// processes die with the test process (PDEATHSIG), so an interrupted run leaves none behind.
type LocalDriver struct {
	cfg DriverConfig

	mu     sync.Mutex
	procs  []*localProc
	starts int // how many times Start ran, to name log files
}

type localProc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
}

func (p *localProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Name implements Driver.
func (d *LocalDriver) Name() string { return "local processes" }

// Start implements Driver.
func (d *LocalDriver) Start(ctx context.Context, replicas int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, p := range d.procs {
		if p.running() {
			return fmt.Errorf("replica %d still runs; Stop or Kill it first", i)
		}
	}
	d.procs = nil
	d.starts++
	if err := os.MkdirAll(d.cfg.LogDir, 0o755); err != nil {
		return err
	}
	for i := range replicas {
		p, addr, err := d.startOne(i)
		if err != nil {
			return err
		}
		d.procs = append(d.procs, p)
		if err := waitHealthy(ctx, p, addr); err != nil {
			return fmt.Errorf("replica %d: %w\n%s", i, err, tail(p.logPath, 20))
		}
	}
	return nil
}

func (d *LocalDriver) startOne(i int) (*localProc, string, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(d.cfg.LogDir, fmt.Sprintf("operator-start%d-replica%d.log", d.starts, i))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	cmd := exec.Command(d.cfg.Binary,
		"--kubeconfig="+d.cfg.Kubeconfig,
		"--zone-service-type=NodePort",
		"--leader-elect",
		"--leader-election-namespace="+d.cfg.Namespace,
		"--metrics-bind-address=0",
		"--health-probe-bind-address="+addr,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a Ctrl-C reaches the suite, which stops the replicas itself. PDEATHSIG:
	// they die with the test process whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("failed to start the operator: %w", err)
	}
	p := &localProc{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, addr, nil
}

// waitHealthy waits until the replica answers /readyz, or fails when it exits first.
func waitHealthy(ctx context.Context, p *localProc, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	url := "http://" + addr + "/readyz"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("the operator exited at start")
		case <-ctx.Done():
			return fmt.Errorf("the operator is not healthy on %s: %w", url, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Kill implements Driver.
func (d *LocalDriver) Kill(ctx context.Context, i int, sig syscall.Signal) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i < 0 || i >= len(d.procs) || !d.procs[i].running() {
		return fmt.Errorf("replica %d does not run", i)
	}
	p := d.procs[i]
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("failed to signal replica %d: %w", i, err)
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGTERM {
		return nil
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("replica %d did not exit within 30 s of %v", i, sig)
	}
}

// Running implements Driver.
func (d *LocalDriver) Running(context.Context) ([]int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int
	for i, p := range d.procs {
		if p.running() {
			out = append(out, i)
		}
	}
	return out, nil
}

// Leader implements Driver: the running replica whose log says it acquired the Lease (each
// Start writes new log files, so an earlier run's leadership does not count).
func (d *LocalDriver) Leader(context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var leaders []int
	for i, p := range d.procs {
		if !p.running() {
			continue
		}
		if b, err := os.ReadFile(p.logPath); err == nil && bytes.Contains(b, []byte(leaderLogLine)) {
			leaders = append(leaders, i)
		}
	}
	switch len(leaders) {
	case 0:
		return -1, errors.New("no running replica leads yet")
	case 1:
		return leaders[0], nil
	default:
		return -1, fmt.Errorf("replicas %v all logged %q", leaders, leaderLogLine)
	}
}

// Logs implements Driver.
func (d *LocalDriver) Logs(lines int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for i, p := range d.procs {
		state := "exited"
		if p.running() {
			state = "running"
		}
		fmt.Fprintf(&b, "--- replica %d (%s), %s:\n%s\n", i, state, p.logPath, tail(p.logPath, lines))
	}
	return b.String()
}

// Stop implements Driver.
func (d *LocalDriver) Stop(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for i, p := range d.procs {
		if !p.running() {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			continue
		case <-ctx.Done():
		case <-time.After(20 * time.Second):
		}
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			errs = append(errs, fmt.Errorf("replica %d (pid %d) did not exit", i, p.cmd.Process.Pid))
		}
	}
	return errors.Join(errs...)
}

// freeLoopbackAddr returns a loopback address with a port nothing listens on right now.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

var _ Driver = &LocalDriver{}
