package verify

import (
	"os"
	"path/filepath"
	"testing"
)

// k8sDir is deploy/k8s, the parent of this module.
func k8sDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "base", "kustomization.yaml")); err != nil {
		t.Fatalf("deploy/k8s/base/kustomization.yaml not found from %s: run the test from deploy/k8s/verify", dir)
	}
	return dir
}

func render(t *testing.T, dir string) []byte {
	t.Helper()
	out, err := Render(dir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeAll decodes a rendering strictly, reporting every document that fails.
func decodeAll(t *testing.T, where string, stream []byte) []Object {
	t.Helper()
	objects, errs := DecodeStream(stream)
	for _, err := range errs {
		t.Errorf("%s: %v", where, err)
	}
	if len(objects) == 0 {
		t.Fatalf("%s rendered no objects", where)
	}
	return objects
}
