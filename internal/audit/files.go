package audit

// This file is the offline path: manifests read from files or standard input (kubectl city
// audit -f, connectivity -f, explain -f). cluster.go is the live one.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Scheme knows every kind the audit reads: the built-in kinds and the operator's.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := platformv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// manifestExtensions are the file extensions read from folders (as kubectl does).
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// InputError is an error in the input (a missing file, a document that does not decode), as
// opposed to a failure of the audit itself.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, a ...any) error { return &InputError{Err: fmt.Errorf(format, a...)} }

// ReadFiles reads the objects of manifest files into a Model, as `kubectl apply -f` would:
// each path is a file, a folder (its .yaml, .yml and .json files; with recursive, also those of
// its subfolders) or "-" for stdin. Documents may be YAML (several per file) or JSON, and
// kind List is unpacked. Kinds the audit does not use and documents without a kind (such as
// kustomization.yaml) are skipped. An object read twice replaces the earlier one (later
// files win) and a note says so. Namespaced objects without a namespace go to "default".
// Nothing is rendered: see Rendered.
func ReadFiles(paths []string, recursive bool, stdin io.Reader) (*Model, error) {
	if len(paths) == 0 {
		return nil, inputErrorf("no manifest file or folder given")
	}
	m := &Model{}
	seen := map[string]string{} // object key → file
	for _, p := range paths {
		files, err := expand(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			var data []byte
			if f == "-" {
				if stdin == nil {
					return nil, inputErrorf("reading manifests from stdin is not supported here")
				}
				data, err = io.ReadAll(stdin)
			} else {
				data, err = os.ReadFile(f)
			}
			if err != nil {
				return nil, inputErrorf("failed to read %s: %w", f, err)
			}
			if err := decodeInto(m, data, f, seen); err != nil {
				return nil, err
			}
		}
	}
	m.sort()
	return m, nil
}

// expand lists the manifest files of a path, in lexical order within a folder.
func expand(path string, recursive bool) ([]string, error) {
	if path == "-" {
		return []string{"-"}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, inputErrorf("the path %q does not exist", path)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(p))) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, inputErrorf("failed to read the folder %s: %w", path, err)
	}
	return files, nil
}

func decodeInto(m *Model, data []byte, file string, seen map[string]string) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return inputErrorf("%s: failed to read document %d: %w", file, doc, err)
		}
		j, err := sigsyaml.YAMLToJSON(raw)
		if err != nil {
			return inputErrorf("%s: document %d is not valid YAML or JSON: %w", file, doc, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if t := bytes.TrimSpace(j); len(t) == 0 || bytes.Equal(t, []byte("null")) || json.Unmarshal(j, &head) != nil ||
			head.APIVersion == "" || head.Kind == "" {
			continue // empty document, or not a Kubernetes object (kustomization.yaml)
		}
		obj, _, err := unstructured.UnstructuredJSONScheme.Decode(j, nil, nil)
		if err != nil {
			return inputErrorf("%s: document %d: %w", file, doc, err)
		}
		var items []unstructured.Unstructured
		switch o := obj.(type) {
		case *unstructured.UnstructuredList:
			items = o.Items
		case *unstructured.Unstructured:
			items = []unstructured.Unstructured{*o}
		}
		for i := range items {
			if err := addUnstructured(m, &items[i], file, seen); err != nil {
				return err
			}
		}
	}
}

func addUnstructured(m *Model, u *unstructured.Unstructured, file string, seen map[string]string) error {
	gvk := u.GroupVersionKind()
	if !Scheme.Recognizes(gvk) {
		return nil
	}
	obj, err := Scheme.New(gvk)
	if err != nil {
		return nil //nolint:nilerr // a kind the audit does not use is skipped
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return inputErrorf("%s: %s %s: %w", file, gvk.Kind, u.GetName(), err)
	}
	if mo, ok := obj.(client.Object); ok && mo.GetNamespace() == "" && namespaced(obj) {
		mo.SetNamespace(corev1.NamespaceDefault)
	}
	known, _ := m.Add(obj)
	if !known {
		return nil
	}
	mo := obj.(client.Object)
	key := gvk.Kind + " " + client.ObjectKeyFromObject(mo).String()
	if mo.GetNamespace() == "" {
		key = gvk.Kind + " " + mo.GetName()
	}
	if earlier, ok := seen[key]; ok {
		m.Notes = append(m.Notes, fmt.Sprintf("%s is defined in %s and again in %s: the later definition is used", key, earlier, file))
	}
	seen[key] = file
	return nil
}

// namespaced reports whether objects of this type live in a namespace.
func namespaced(obj runtime.Object) bool {
	switch obj.(type) {
	case *corev1.Namespace, *platformv1alpha1.NetworkZone:
		return false
	}
	return true
}
