// Package verify checks the Kubernetes manifests under deploy/k8s without a
// cluster: every kustomization renders, every rendered object decodes strictly
// (unknown or duplicate fields are errors) into the real Kubernetes API types
// of client-go's scheme, and the objects agree with each other and with the
// product contract (ports, probes, security, references). The rendering and
// decoding live here (also used by cmd/render-json); the checks are the tests.
package verify

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// KustomizeCommand is how a kustomization is rendered: $ETL_KUSTOMIZE (a
// command to which the folder is appended), else `kubectl kustomize`, else
// `kustomize build` (deploy/scripts/install-tools.sh installs one of them).
func KustomizeCommand() ([]string, error) {
	if c := strings.Fields(os.Getenv("ETL_KUSTOMIZE")); len(c) > 0 {
		return c, nil
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return []string{p, "kustomize"}, nil
	}
	if p, err := exec.LookPath("kustomize"); err == nil {
		return []string{p, "build"}, nil
	}
	return nil, errors.New("neither kubectl nor kustomize is on PATH: run deploy/scripts/install-tools.sh (or set ETL_KUSTOMIZE)")
}

// Render runs kustomize on a folder and returns the YAML stream.
func Render(dir string) ([]byte, error) {
	c, err := KustomizeCommand()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(c[0], append(c[1:], dir)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s failed: %v\n%s", strings.Join(c, " "), dir, err, stderr.String())
	}
	return out, nil
}

// Object is one rendered document, decoded.
type Object struct {
	GVK       schema.GroupVersionKind
	Name      string
	Namespace string
	Typed     any    // a client-go type (*appsv1.Deployment, ...) or one of CRDTypes
	JSON      []byte // the document as JSON
}

func (o Object) String() string {
	if o.Namespace != "" {
		return fmt.Sprintf("%s %s/%s", o.GVK.Kind, o.Namespace, o.Name)
	}
	return fmt.Sprintf("%s %s", o.GVK.Kind, o.Name)
}

var strictCodecs = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)

// Documents splits a multi-document YAML stream, dropping empty documents.
func Documents(stream []byte) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if trimmed := bytes.TrimSpace(doc); len(trimmed) > 0 && string(trimmed) != "---" {
			docs = append(docs, doc)
		}
	}
}

// DecodeStream decodes every document of a stream strictly; the objects that
// decoded, and one error per document that did not.
func DecodeStream(stream []byte) ([]Object, []error) {
	docs, err := Documents(stream)
	if err != nil {
		return nil, []error{err}
	}
	var objects []Object
	var errs []error
	for i, doc := range docs {
		obj, err := DecodeDocument(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i, err))
			continue
		}
		objects = append(objects, obj)
	}
	if len(objects) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no objects"))
	}
	return objects, errs
}

// DecodeDocument decodes one YAML document strictly into its Go type: a
// client-go scheme type, or one of CRDTypes. Any other kind is an error.
func DecodeDocument(doc []byte) (Object, error) {
	var meta struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return Object{}, fmt.Errorf("not a Kubernetes object: %v", err)
	}
	gvk := schema.FromAPIVersionAndKind(meta.APIVersion, meta.Kind)
	label := fmt.Sprintf("%s %q", gvk.Kind, meta.Metadata.Name)
	if gvk.Kind == "" || gvk.Version == "" {
		return Object{}, fmt.Errorf("%s: no apiVersion/kind", label)
	}
	var typed any
	if scheme.Scheme.Recognizes(gvk) {
		obj, _, err := strictCodecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			return Object{}, fmt.Errorf("%s does not decode strictly into %s: %v", label, gvk, err)
		}
		typed = obj
	} else if newType, ok := CRDTypes[gvk]; ok {
		typed = newType()
		if err := strictCRD(doc, typed); err != nil {
			return Object{}, fmt.Errorf("%s does not decode strictly into %s: %v", label, gvk, err)
		}
	} else {
		return Object{}, fmt.Errorf("%s: unknown kind %s (neither in client-go's scheme nor a custom resource this module knows)", label, gvk)
	}
	if meta.Metadata.Name == "" {
		return Object{}, fmt.Errorf("%s: metadata.name is empty", label)
	}
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return Object{}, err
	}
	return Object{GVK: gvk, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace, Typed: typed, JSON: js}, nil
}

// strictCRD decodes a custom resource into its Go mirror: case-sensitive,
// unknown and duplicate fields are errors (the same rules as the scheme's
// strict serializer).
func strictCRD(doc []byte, into any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(js, into, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding error: %s", strings.Join(msgs, ", "))
	}
	return nil
}
