package verify

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Every kustomization under deploy/k8s is one of these, or a Component
// (rendered on top of overlays/local). A new overlay must be added here.
var targets = map[string]func(t *testing.T, objs *Objects){
	"base":           nil,
	"overlays/local": checkLocalOverlay,
	"overlays/aws":   checkAWSOverlay,
}

// componentHost is the kustomization the components are tried on.
const componentHost = "overlays/local"

// componentChecks: what each component must add to its host.
var componentChecks = map[string]func(t *testing.T, objs *Objects){
	"components/keda-transformer-lag":      checkKEDAComponent,
	"components/prometheus-servicemonitor": checkServiceMonitorComponent,
	"components/prometheus-rules":          checkPrometheusRulesComponent,
}

func TestEveryKustomizationRendersAndDecodesStrictly(t *testing.T) {
	root := k8sDir(t)
	kinds := discoverKustomizations(t, root)
	for _, rel := range sortedKeys(kinds) {
		rel := rel
		if kinds[rel] == "Component" {
			check, ok := componentChecks[rel]
			if !ok {
				t.Errorf("%s: a Component this test does not know: add it to componentChecks", rel)
				continue
			}
			t.Run(rel, func(t *testing.T) {
				objs := renderComponentOnHost(t, root, rel)
				checkCommon(t, objs, true)
				check(t, objs)
			})
			continue
		}
		check, ok := targets[rel]
		if !ok {
			t.Errorf("%s: a kustomization this test does not know: add it to targets", rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			objs := NewObjects(decodeAll(t, rel, render(t, filepath.Join(root, rel))))
			checkCommon(t, objs, rel != "base")
			if check != nil {
				check(t, objs)
			}
		})
	}
	for rel := range targets {
		if _, ok := kinds[rel]; !ok {
			t.Errorf("%s: listed in targets but has no kustomization.yaml", rel)
		}
	}
}

// discoverKustomizations maps every folder holding a kustomization.yaml
// (relative to deploy/k8s) to its kind: Kustomization or Component.
func discoverKustomizations(t *testing.T, root string) map[string]string {
	t.Helper()
	found := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "verify" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || (d.Name() != "kustomization.yaml" && d.Name() != "kustomization.yml") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		kind := head.Kind
		if kind == "" {
			kind = "Kustomization"
		}
		found[filepath.ToSlash(rel)] = kind
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// renderComponentOnHost renders componentHost with the component added, from a
// throw-away kustomization (kustomize wants relative paths).
func renderComponentOnHost(t *testing.T, root, component string) *Objects {
	t.Helper()
	tmp := t.TempDir()
	rel, err := filepath.Rel(tmp, root)
	if err != nil {
		t.Fatal(err)
	}
	rel = filepath.ToSlash(rel)
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
		"namespace: spotify-etl\n" +
		"resources:\n  - " + rel + "/" + componentHost + "\n" +
		"components:\n  - " + rel + "/" + component + "\n"
	if err := os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	return NewObjects(decodeAll(t, componentHost+" + "+component, render(t, tmp)))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
