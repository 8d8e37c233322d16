package verify

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Objects is one rendering, with typed lookups.
type Objects struct {
	All []Object
}

func NewObjects(all []Object) *Objects { return &Objects{All: all} }

// Of returns every object of Go type T (e.g. *appsv1.Deployment), in render order.
func Of[T any](o *Objects) []T {
	var out []T
	for _, obj := range o.All {
		if v, ok := obj.Typed.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// Named returns the object of type T with that name.
func Named[T metav1.Object](o *Objects, name string) (T, bool) {
	for _, v := range Of[T](o) {
		if v.GetName() == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("bad label selector %v: %v", sel, err)
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

// containerPort resolves a probe's or Service's port (number or name) against a container.
func containerPort(c corev1.Container, p intstr.IntOrString) (int32, bool) {
	if p.Type == intstr.Int {
		for _, cp := range c.Ports {
			if cp.ContainerPort == p.IntVal {
				return cp.ContainerPort, true
			}
		}
		return p.IntVal, false
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}
