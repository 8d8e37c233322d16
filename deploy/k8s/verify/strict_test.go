package verify

import (
	"strings"
	"testing"
)

// The decoder must be strict, or the main test proves nothing: these
// documents are wrong in ways a lenient decoder silently accepts.
func TestStrictDecodingRejectsWhatALenientDecoderWouldAccept(t *testing.T) {
	cases := []struct {
		name, doc, wantErr string
	}{
		{"misspelt field", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: x
          image: x:1
          livenessProbes: {httpGet: {path: /healthz, port: 8081}}
`, `unknown field "spec.template.spec.containers[0].livenessProbes"`},
		{"field at the wrong level", `
apiVersion: v1
kind: Service
metadata: {name: x}
spec:
  selector: {a: b}
  ports: [{port: 8081}]
  targetPort: 8081
`, `unknown field "spec.targetPort"`},
		{"duplicate field", `
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  ETL_BUS: kafka
  ETL_BUS: memory
`, `already set in map`},
		{"wrong case", `
apiVersion: v1
kind: ServiceAccount
metadata: {name: x}
automountServiceAccountTOKEN: false
`, `unknown field "automountServiceAccountTOKEN"`},
		{"unknown kind", `
apiVersion: example.com/v1
kind: Widget
metadata: {name: x}
`, `unknown kind`},
		{"custom resource with a misspelt field", `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: x}
spec:
  scaleTargetRef: {name: transformer}
  maxReplicas: 6
  triggers: []
`, `unknown field "spec.maxReplicas"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeDocument([]byte(strings.TrimSpace(c.doc)))
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %q does not contain %q", err, c.wantErr)
			}
		})
	}
}
