package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/keyutil"
)

// operatorUser is the user name of the operator's client certificate: the audit policy logs
// this user's requests, and only them.
const operatorUser = "smartcity-operator-bench"

// auditPolicy logs the operator's requests at Metadata level (no bodies) and nothing else, so
// that auditing costs the API server next to nothing.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["` + operatorUser + `"]
  - level: None
`

// cluster is a local cluster of hack/cluster, started and deleted by the benchmark.
type cluster struct {
	root, name string
	nodes      int
}

func (c *cluster) kubeconfig() string {
	return filepath.Join(c.root, "bin/cluster", c.name, "kubeconfig")
}
func (c *cluster) kwokDir() string {
	return filepath.Join(c.root, "bin/cluster/.kwok/clusters", c.name)
}
func (c *cluster) auditLog() string { return filepath.Join(c.kwokDir(), "logs/audit.log") }

func (c *cluster) script(ctx context.Context, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "hack/cluster/cluster.sh"), args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), append([]string{"CLUSTER_NAME=" + c.name}, env...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.WaitDelay = 30 * time.Second
	return cmd.Run()
}

// up creates the cluster afresh (deleting a leftover of an interrupted run of the same name),
// with an audit log when auditPolicyFile is set.
func (c *cluster) up(ctx context.Context, auditPolicyFile string) error {
	if _, err := os.Stat(filepath.Join(c.kwokDir(), "kwok.yaml")); err == nil {
		info("cluster %s is left from an earlier run: deleting it", c.name)
		if err := c.down(); err != nil {
			return err
		}
	}
	env := []string{fmt.Sprintf("CLUSTER_NODES=%d", c.nodes)}
	if auditPolicyFile != "" {
		env = append(env, "CLUSTER_AUDIT_POLICY="+auditPolicyFile)
	}
	if err := c.script(ctx, env, "up"); err != nil {
		return fmt.Errorf("failed to start cluster %s: %w", c.name, err)
	}
	return nil
}

// down deletes the cluster, even when the benchmark is being interrupted.
func (c *cluster) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.script(ctx, nil, "down"); err != nil {
		return fmt.Errorf("failed to delete cluster %s: %w", c.name, err)
	}
	return nil
}

// operatorKubeconfig writes a kubeconfig for the operator with a client certificate of its
// own (user operatorUser, group system:masters), signed by the cluster's CA, so that the
// audit log tells its requests from everyone else's (kwokctl gives every component the same
// admin certificate).
func (c *cluster) operatorKubeconfig() (string, error) {
	pki := filepath.Join(c.kwokDir(), "pki")
	caPEM, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return "", fmt.Errorf("failed to read the cluster's CA: %w", err)
	}
	block, _ := pem.Decode(caPEM)
	if block == nil {
		return "", fmt.Errorf("%s holds no PEM certificate", filepath.Join(pki, "ca.crt"))
	}
	caCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("failed to parse the cluster's CA: %w", err)
	}
	caKeyAny, err := keyutil.PrivateKeyFromFile(filepath.Join(pki, "ca.key"))
	if err != nil {
		return "", fmt.Errorf("failed to read the cluster's CA key: %w", err)
	}
	caKey, ok := caKeyAny.(crypto.Signer)
	if !ok {
		return "", fmt.Errorf("the cluster's CA key (%T) cannot sign", caKeyAny)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: operatorUser, Organization: []string{"system:masters"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", fmt.Errorf("failed to sign the operator's certificate: %w", err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return "", err
	}
	cfg, err := clientcmd.LoadFromFile(c.kubeconfig())
	if err != nil {
		return "", err
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return "", fmt.Errorf("%s has no current context", c.kubeconfig())
	}
	auth := cfg.AuthInfos[ctx.AuthInfo]
	if auth == nil {
		return "", fmt.Errorf("%s has no user %q", c.kubeconfig(), ctx.AuthInfo)
	}
	auth.ClientCertificate, auth.ClientKey = "", ""
	auth.ClientCertificateData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	auth.ClientKeyData = keyPEM
	path := filepath.Join(filepath.Dir(c.kubeconfig()), "operator.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", err
	}
	return path, nil
}
