package verify

import (
	"path"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// checkTriggerCronJob: the daily run is our own CLI calling the extractor's Service.
func checkTriggerCronJob(t *testing.T, objs *Objects, image string) {
	cronjobs := Of[*batchv1.CronJob](objs)
	if len(cronjobs) != 1 {
		t.Errorf("%d CronJobs, want the one daily-run trigger", len(cronjobs))
		return
	}
	cj := cronjobs[0]
	where := "CronJob " + cj.Name
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("%s: concurrencyPolicy %q, want Forbid (two runs at once would both land)", where, cj.Spec.ConcurrencyPolicy)
	}
	spec := cj.Spec.JobTemplate.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Errorf("%s: want one container", where)
		return
	}
	c := spec.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) < 2 || argv[0] != path.Join(binDir, "spotify-etl") || argv[1] != "run" {
		t.Errorf("%s: runs %v, want %s run ...", where, argv, path.Join(binDir, "spotify-etl"))
	}
	if c.Image != image {
		t.Errorf("%s: image %q, want the services' image %q (no extra image to trust)", where, c.Image, image)
	}
	addr, ok := envValue(c, "ETL_EXTRACTOR_ADDR")
	if !ok {
		t.Errorf("%s: ETL_EXTRACTOR_ADDR not set: the CLI would call 127.0.0.1:8081", where)
	} else {
		host, port, err := splitHostPort(addr)
		svc, found := Named[*corev1.Service](objs, strings.Split(host, ".")[0])
		if err != nil || !found || svc.Name != "extractor" {
			t.Errorf("%s: ETL_EXTRACTOR_ADDR=%q does not name the extractor Service", where, addr)
		} else {
			okPort := false
			for _, p := range svc.Spec.Ports {
				okPort = okPort || p.Port == port
			}
			if !okPort {
				t.Errorf("%s: ETL_EXTRACTOR_ADDR=%q: the extractor Service has no port %d", where, addr, port)
			}
		}
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever && spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("%s: restartPolicy %q", where, spec.RestartPolicy)
	}
	checkResources(t, where, c)
	checkPodSecurity(t, where, spec, c)
	checkServiceAccount(t, objs, where, spec)
	checkEnvReferences(t, objs, where, c)
	// The Job's pod may reach the extractor.
	egressToExtractor := false
	extractor, _ := Named[*appsv1.Deployment](objs, "extractor")
	for _, np := range Of[*networkingv1.NetworkPolicy](objs) {
		if !selects(t, &np.Spec.PodSelector, cj.Spec.JobTemplate.Spec.Template.Labels) {
			continue
		}
		for _, rule := range np.Spec.Egress {
			for _, peer := range rule.To {
				if extractor != nil && peer.PodSelector != nil && peer.NamespaceSelector == nil &&
					selects(t, peer.PodSelector, extractor.Spec.Template.Labels) {
					egressToExtractor = true
				}
			}
		}
	}
	if !egressToExtractor {
		t.Errorf("%s: no NetworkPolicy lets its pod reach the extractor", where)
	}
}

// checkAutoscalers: every HorizontalPodAutoscaler (and KEDA ScaledObject)
// targets an existing Deployment, and no Deployment has two.
func checkAutoscalers(t *testing.T, objs *Objects) {
	scaled := map[string]string{}
	claim := func(who, target string) {
		if _, ok := Named[*appsv1.Deployment](objs, target); !ok {
			t.Errorf("%s: targets Deployment %q, which is not in the rendering", who, target)
		}
		if other, ok := scaled[target]; ok {
			t.Errorf("%s and %s both scale Deployment %s: they would fight", who, other, target)
		}
		scaled[target] = who
	}
	for _, h := range Of[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		who := "HorizontalPodAutoscaler " + h.Name
		if h.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("%s: scales a %s", who, h.Spec.ScaleTargetRef.Kind)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			t.Errorf("%s: minReplicas/maxReplicas out of order", who)
		}
		claim(who, h.Spec.ScaleTargetRef.Name)
		if d, ok := Named[*appsv1.Deployment](objs, h.Spec.ScaleTargetRef.Name); ok && d.Spec.Replicas != nil {
			t.Errorf("%s: Deployment %s also sets replicas: every apply would reset the autoscaler's count", who, d.Name)
		}
	}
	for _, so := range Of[*ScaledObject](objs) {
		who := "ScaledObject " + so.Name
		if so.Spec.ScaleTargetRef == nil {
			t.Errorf("%s: no scaleTargetRef", who)
			continue
		}
		claim(who, so.Spec.ScaleTargetRef.Name)
	}
}

// checkNamespaces: in an overlay every namespaced object lands in the overlay's namespace.
func checkNamespaces(t *testing.T, objs *Objects, overlay bool) {
	if !overlay {
		return
	}
	namespaces := Of[*corev1.Namespace](objs)
	for _, o := range objs.All {
		if o.GVK.Kind == "Namespace" {
			continue
		}
		if o.Namespace == "" {
			t.Errorf("%s: no namespace", o)
		} else if len(namespaces) == 1 && o.Namespace != namespaces[0].Name {
			t.Errorf("%s: namespace %q, but the overlay creates %q", o, o.Namespace, namespaces[0].Name)
		}
	}
}

// configValue reads a key of the generated spotify-etl-config ConfigMap.
func configValue(t *testing.T, objs *Objects, key string) string {
	t.Helper()
	for _, cm := range Of[*corev1.ConfigMap](objs) {
		if strings.HasPrefix(cm.Name, "spotify-etl-config") {
			return cm.Data[key]
		}
	}
	t.Errorf("no spotify-etl-config ConfigMap")
	return ""
}

// checkConfigMapValues: the accepted forms of docs/contract.md §3 (the
// binaries refuse anything else at start-up; the replay test runs them).
func checkConfigMapValues(t *testing.T, objs *Objects) {
	choices := map[string][]string{
		"ETL_BUS":           {"kafka"}, // separate services: never the in-process bus
		"ETL_OUTPUT_FORMAT": {"parquet", "csv", "jsonl"},
		"ETL_CATALOG":       {"local", "glue"},
		"ETL_QUERY_ENGINE":  {"duckdb", "athena"},
		"ETL_LOG_LEVEL":     {"trace", "debug", "info", "warn", "error"},
		"ETL_LOG_FORMAT":    {"json", "text"},
	}
	for key, accepted := range choices {
		v := configValue(t, objs, key)
		ok := false
		for _, a := range accepted {
			ok = ok || v == a
		}
		if !ok {
			t.Errorf("ConfigMap %s=%q, want one of %v", key, v, accepted)
		}
	}
	for _, key := range []string{"ETL_RAW_URL", "ETL_TRANSFORMED_URL"} {
		if v := configValue(t, objs, key); !strings.HasPrefix(v, "s3://") || len(v) <= len("s3://") {
			t.Errorf("ConfigMap %s=%q: pods have no shared disk, want s3://bucket[/prefix]", key, v)
		}
	}
	if configValue(t, objs, "ETL_KAFKA_BOOTSTRAP_SERVERS") == "" {
		t.Errorf("ConfigMap: ETL_KAFKA_BOOTSTRAP_SERVERS is empty")
	}
	for _, cm := range Of[*corev1.ConfigMap](objs) {
		if !strings.HasPrefix(cm.Name, "spotify-etl-config") {
			continue
		}
		for k := range cm.Data {
			if looksSecret(k) {
				t.Errorf("ConfigMap %s holds %s: secrets belong in a Secret", cm.Name, k)
			}
			if strings.HasSuffix(k, "_ADDR") {
				t.Errorf("ConfigMap %s holds %s: a listen address belongs next to its container port", cm.Name, k)
			}
		}
	}
}
