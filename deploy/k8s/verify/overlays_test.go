package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func bucketOf(url string) string {
	rest := strings.TrimPrefix(url, "s3://")
	return strings.SplitN(rest, "/", 2)[0]
}

// serviceAddress checks that host:port (or http://host:port) names a Service
// of the rendering with that port.
func serviceAddress(t *testing.T, objs *Objects, what, addr string) {
	hostPort := strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	host, port, err := splitHostPort(hostPort)
	if err != nil {
		t.Errorf("%s=%q: not host:port", what, addr)
		return
	}
	svc, ok := Named[*corev1.Service](objs, host)
	if !ok {
		t.Errorf("%s=%q: no Service %q in the rendering", what, addr, host)
		return
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			return
		}
	}
	t.Errorf("%s=%q: Service %s has no port %d", what, addr, host, port)
}

func containerEnv(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

// checkRestrictedPod: what the restricted Pod Security profile demands of a
// pod (the local overlay's namespace enforces it, infrastructure included).
func checkRestrictedPod(t *testing.T, where string, spec corev1.PodSpec) {
	psc := spec.SecurityContext
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		w := where + " container " + c.Name
		csc := c.SecurityContext
		if csc == nil {
			t.Errorf("%s: no securityContext", w)
			continue
		}
		nonRoot := (csc.RunAsNonRoot != nil && *csc.RunAsNonRoot) || (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
		uid := csc.RunAsUser
		if uid == nil && psc != nil {
			uid = psc.RunAsUser
		}
		if !nonRoot || uid == nil || *uid == 0 {
			t.Errorf("%s: needs runAsNonRoot and a numeric non-zero runAsUser", w)
		}
		if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", w)
		}
		drops := csc.Capabilities != nil && len(csc.Capabilities.Drop) == 1 && csc.Capabilities.Drop[0] == "ALL"
		if !drops {
			t.Errorf("%s: capabilities must drop ALL", w)
		}
		seccomp := csc.SeccompProfile
		if seccomp == nil && psc != nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccompProfile is not RuntimeDefault", w)
		}
		if c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: no memory limit", w)
		}
		checkImageTag(t, w, c.Image)
	}
}

func checkLocalOverlay(t *testing.T, objs *Objects) {
	bootstrap := configValue(t, objs, "ETL_KAFKA_BOOTSTRAP_SERVERS")
	serviceAddress(t, objs, "ETL_KAFKA_BOOTSTRAP_SERVERS", bootstrap)
	s3 := configValue(t, objs, "AWS_ENDPOINT_URL_S3")
	if !strings.HasPrefix(s3, "http://") {
		t.Errorf("AWS_ENDPOINT_URL_S3=%q: want the in-cluster MinIO, http://minio:9000", s3)
	}
	serviceAddress(t, objs, "AWS_ENDPOINT_URL_S3", s3)
	rawBucket := bucketOf(configValue(t, objs, "ETL_RAW_URL"))
	transformedBucket := bucketOf(configValue(t, objs, "ETL_TRANSFORMED_URL"))
	rawTopic := configValue(t, objs, "ETL_TOPIC_RAW")

	for _, ns := range Of[*corev1.Namespace](objs) {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("Namespace %s: does not enforce the restricted Pod Security profile", ns.Name)
		}
	}
	for _, s := range Of[*appsv1.StatefulSet](objs) {
		checkRestrictedPod(t, "StatefulSet "+s.Name, s.Spec.Template.Spec)
	}
	for _, j := range Of[*batchv1.Job](objs) {
		checkRestrictedPod(t, "Job "+j.Name, j.Spec.Template.Spec)
	}

	kafka, ok := Named[*appsv1.StatefulSet](objs, "kafka")
	if !ok {
		t.Fatalf("no Kafka StatefulSet")
	}
	kenv := containerEnv(kafka.Spec.Template.Spec.Containers[0])
	if !strings.HasPrefix(kafka.Spec.Template.Spec.Containers[0].Image, "localhost/spotify-etl-kafka:") {
		t.Errorf("Kafka: image %q, want localhost/spotify-etl-kafka (deploy/scripts/local-images.sh)", kafka.Spec.Template.Spec.Containers[0].Image)
	}
	if kenv["KAFKA_PROCESS_ROLES"] != "broker,controller" {
		t.Errorf("Kafka: KAFKA_PROCESS_ROLES=%q, want KRaft combined mode broker,controller", kenv["KAFKA_PROCESS_ROLES"])
	}
	if !strings.Contains(kenv["KAFKA_ADVERTISED_LISTENERS"], "://"+bootstrap) {
		t.Errorf("Kafka: advertises %q, but the services bootstrap from %q", kenv["KAFKA_ADVERTISED_LISTENERS"], bootstrap)
	}
	if kafka.Spec.Template.Spec.EnableServiceLinks == nil || *kafka.Spec.Template.Spec.EnableServiceLinks {
		t.Errorf("Kafka: enableServiceLinks must be false (the image turns KAFKA_PORT=tcp://... into a broker property)")
	}

	minio, ok := Named[*appsv1.StatefulSet](objs, "minio")
	if !ok {
		t.Fatalf("no MinIO StatefulSet")
	}
	menv := containerEnv(minio.Spec.Template.Spec.Containers[0])
	if menv["MINIO_NOTIFY_KAFKA_ENABLE_PRIMARY"] != "on" {
		t.Errorf("MinIO: the Kafka notification target PRIMARY is not enabled")
	}
	if menv["MINIO_NOTIFY_KAFKA_BROKERS_PRIMARY"] != bootstrap {
		t.Errorf("MinIO: notifies brokers %q, the services use %q", menv["MINIO_NOTIFY_KAFKA_BROKERS_PRIMARY"], bootstrap)
	}
	if menv["MINIO_NOTIFY_KAFKA_TOPIC_PRIMARY"] != rawTopic {
		t.Errorf("MinIO: notifies topic %q, the raw topic is %q", menv["MINIO_NOTIFY_KAFKA_TOPIC_PRIMARY"], rawTopic)
	}
	if menv["MINIO_NOTIFY_KAFKA_QUEUE_DIR_PRIMARY"] == "" {
		t.Errorf("MinIO: no MINIO_NOTIFY_KAFKA_QUEUE_DIR_PRIMARY: events of objects written while Kafka is down would be lost")
	}
	region := menv["MINIO_SITE_REGION"]
	if region != configValue(t, objs, "AWS_REGION") {
		t.Errorf("MinIO: region %q, the services sign for AWS_REGION=%q", region, configValue(t, objs, "AWS_REGION"))
	}

	job, ok := Named[*batchv1.Job](objs, "minio-setup")
	if !ok {
		t.Fatalf("no minio-setup Job")
	}
	script := strings.Join(append(append([]string{}, job.Spec.Template.Spec.Containers[0].Command...), job.Spec.Template.Spec.Containers[0].Args...), " ")
	for _, want := range []string{
		`--aws-sigv4 "aws:amz:` + region + `:s3"`,
		"for bucket in " + rawBucket + " " + transformedBucket + "; do",
		`"http://minio:9000/` + rawBucket + `?notification="`,
		"<Queue>arn:minio:sqs:" + region + ":PRIMARY:kafka</Queue>",
		"<Event>s3:ObjectCreated:*</Event>",
		"<Name>prefix</Name><Value>to_be_processed/</Value>",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("minio-setup Job: its script lacks %q", want)
		}
	}
	if _, ok := secretNamed(objs, "spotify-etl-aws"); !ok {
		t.Errorf("no spotify-etl-aws Secret: a custom S3 endpoint needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
}

// secretNamed finds a generated Secret by its name before the hash suffix.
func secretNamed(objs *Objects, base string) (*corev1.Secret, bool) {
	for _, s := range Of[*corev1.Secret](objs) {
		if s.Name == base || strings.HasPrefix(s.Name, base+"-") {
			return s, true
		}
	}
	return nil, false
}

var roleARN = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)

func checkAWSOverlay(t *testing.T, objs *Objects) {
	if v := configValue(t, objs, "ETL_CATALOG"); v != "glue" {
		t.Errorf("ETL_CATALOG=%q, want glue", v)
	}
	if v := configValue(t, objs, "ETL_QUERY_ENGINE"); v != "athena" {
		t.Errorf("ETL_QUERY_ENGINE=%q, want athena", v)
	}
	// Iceberg tables registered in Glue at each commit: the cataloger's policy must
	// allow the registration and the metadata writes, and no crawler.
	iceberg := configValue(t, objs, "ETL_TABLE_FORMAT") == "iceberg"
	if !iceberg {
		t.Errorf("ETL_TABLE_FORMAT=%q, want iceberg (tables registered in Glue without a crawler)",
			configValue(t, objs, "ETL_TABLE_FORMAT"))
	}
	athenaOutput := configValue(t, objs, "ETL_ATHENA_OUTPUT")
	if !strings.HasPrefix(athenaOutput, "s3://") {
		t.Errorf("ETL_ATHENA_OUTPUT=%q, want s3://bucket/prefix", athenaOutput)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_GLUE", "AWS_ENDPOINT_URL_ATHENA"} {
		if v := configValue(t, objs, k); v != "" {
			t.Errorf("%s=%q: the AWS overlay talks to AWS itself", k, v)
		}
	}
	if _, ok := secretNamed(objs, "spotify-etl-aws"); ok {
		t.Errorf("the AWS overlay renders AWS keys in a Secret: use the IRSA roles")
	}
	buckets := map[string]string{
		"raw":         bucketOf(configValue(t, objs, "ETL_RAW_URL")),
		"transformed": bucketOf(configValue(t, objs, "ETL_TRANSFORMED_URL")),
		"athena":      bucketOf(athenaOutput),
	}
	// Each service's role, and the buckets its policy (iam/<service>-policy.json) must name.
	needs := map[string][]string{
		"extractor":   {"raw"},
		"transformer": {"raw", "transformed"},
		"cataloger":   {"transformed", "athena", "raw"}, // raw: the run records (runs/*) for the dashboard
	}
	for _, d := range Of[*appsv1.Deployment](objs) {
		sa, ok := Named[*corev1.ServiceAccount](objs, d.Spec.Template.Spec.ServiceAccountName)
		if !ok {
			continue // reported by checkCommon
		}
		arn := sa.Annotations["eks.amazonaws.com/role-arn"]
		if !roleARN.MatchString(arn) {
			t.Errorf("ServiceAccount %s (Deployment %s): eks.amazonaws.com/role-arn=%q is not an IAM role ARN", sa.Name, d.Name, arn)
		}
		policyPath := filepath.Join(k8sDir(t), "overlays", "aws", "iam", d.Name+"-policy.json")
		data, err := os.ReadFile(policyPath)
		if err != nil {
			t.Errorf("Deployment %s: no least-privilege policy: %v", d.Name, err)
			continue
		}
		var policy struct {
			Version   string
			Statement []struct {
				Sid      string
				Effect   string
				Action   []string
				Resource []string
			}
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&policy); err != nil {
			t.Errorf("%s: %v", policyPath, err)
			continue
		}
		if policy.Version != "2012-10-17" || len(policy.Statement) == 0 {
			t.Errorf("%s: not an IAM policy document (Version 2012-10-17 with statements)", policyPath)
		}
		named := map[string]bool{}
		actions := map[string]bool{}
		for _, st := range policy.Statement {
			for _, a := range st.Action {
				actions[a] = true
			}
			if st.Effect != "Allow" {
				t.Errorf("%s: unexpected Effect %q", policyPath, st.Effect)
			}
			for _, a := range st.Action {
				if strings.HasSuffix(a, ":*") || a == "*" {
					t.Errorf("%s: wildcard action %q is not least privilege", policyPath, a)
				}
			}
			for _, r := range st.Resource {
				if r == "*" {
					t.Errorf("%s: resource \"*\" is not least privilege", policyPath)
				}
				for kind, b := range buckets {
					if strings.HasPrefix(r, "arn:aws:s3:::"+b) {
						named[kind] = true
					}
				}
			}
		}
		if d.Name == "cataloger" && iceberg {
			for _, a := range []string{"glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "s3:PutObject"} {
				if !actions[a] {
					t.Errorf("%s: the Iceberg route needs %s", policyPath, a)
				}
			}
			for _, a := range []string{"glue:StartCrawler", "glue:CreateCrawler", "iam:PassRole"} {
				if actions[a] {
					t.Errorf("%s: grants %s, but the Iceberg route runs no crawler", policyPath, a)
				}
			}
		}
		for _, kind := range needs[d.Name] {
			if !named[kind] {
				t.Errorf("%s: does not grant access to the %s bucket %q of the ConfigMap", policyPath, kind, buckets[kind])
			}
		}
		for kind := range named {
			ok := false
			for _, n := range needs[d.Name] {
				ok = ok || n == kind
			}
			if !ok {
				t.Errorf("%s: grants access to the %s bucket, which %s does not use", policyPath, kind, d.Name)
			}
		}
	}
	if sa, ok := Named[*corev1.ServiceAccount](objs, "spotify-etl-trigger"); ok && sa.Annotations["eks.amazonaws.com/role-arn"] != "" {
		t.Errorf("ServiceAccount spotify-etl-trigger: has an IAM role, but it only calls the extractor")
	}
}

func checkKEDAComponent(t *testing.T, objs *Objects) {
	scaledObjects := Of[*ScaledObject](objs)
	if len(scaledObjects) != 1 {
		t.Fatalf("%d ScaledObjects, want 1", len(scaledObjects))
	}
	so := scaledObjects[0]
	if so.Spec.ScaleTargetRef == nil || so.Spec.ScaleTargetRef.Name != "transformer" {
		t.Errorf("ScaledObject %s: does not scale the transformer", so.Name)
	}
	partitions := 6
	if v := configValue(t, objs, "ETL_TOPIC_PARTITIONS"); v != "" {
		partitions, _ = strconv.Atoi(v)
	}
	if so.Spec.MaxReplicaCount == nil || int(*so.Spec.MaxReplicaCount) > partitions {
		t.Logf("ScaledObject %s: maxReplicaCount above the raw topic's %d partitions: KEDA caps it there", so.Name, partitions)
	}
	kafkaTriggers := 0
	for _, tr := range so.Spec.Triggers {
		if tr.Type != "kafka" {
			continue
		}
		kafkaTriggers++
		for k := range tr.Metadata {
			if !kafkaTriggerKeys[k] {
				t.Errorf("ScaledObject %s: kafka trigger metadata %q is not a key KEDA's kafka scaler knows", so.Name, k)
			}
		}
		if g := tr.Metadata["consumerGroup"]; g != "spotify-etl-transformer" {
			t.Errorf("ScaledObject %s: consumerGroup %q, the transformer's group is spotify-etl-transformer (CONTRACT.md section 8)", so.Name, g)
		}
		if topic := tr.Metadata["topic"]; topic != configValue(t, objs, "ETL_TOPIC_RAW") {
			t.Errorf("ScaledObject %s: topic %q, the raw topic is %q", so.Name, topic, configValue(t, objs, "ETL_TOPIC_RAW"))
		}
		if _, err := strconv.Atoi(tr.Metadata["lagThreshold"]); err != nil {
			t.Errorf("ScaledObject %s: lagThreshold %q is not a number", so.Name, tr.Metadata["lagThreshold"])
		}
		_, bsPort, err1 := splitHostPort(tr.Metadata["bootstrapServers"])
		_, cfgPort, err2 := splitHostPort(strings.Split(configValue(t, objs, "ETL_KAFKA_BOOTSTRAP_SERVERS"), ",")[0])
		if err1 != nil || err2 != nil || bsPort != cfgPort {
			t.Errorf("ScaledObject %s: bootstrapServers %q is not the services' Kafka", so.Name, tr.Metadata["bootstrapServers"])
		}
	}
	if kafkaTriggers != 1 {
		t.Errorf("ScaledObject %s: %d kafka triggers, want 1", so.Name, kafkaTriggers)
	}
}

func checkServiceMonitorComponent(t *testing.T, objs *Objects) {
	monitors := Of[*ServiceMonitor](objs)
	if len(monitors) != 1 {
		t.Fatalf("%d ServiceMonitors, want 1", len(monitors))
	}
	sm := monitors[0]
	for name := range servicePorts {
		svc, ok := Named[*corev1.Service](objs, name)
		if !ok {
			continue
		}
		if !selects(t, &sm.Spec.Selector, svc.Labels) {
			t.Errorf("ServiceMonitor %s: does not select Service %s (labels %v)", sm.Name, name, svc.Labels)
		}
		for _, ep := range sm.Spec.Endpoints {
			found := false
			for _, p := range svc.Spec.Ports {
				found = found || p.Name == ep.Port
			}
			if !found {
				t.Errorf("ServiceMonitor %s: endpoint port %q is not a named port of Service %s", sm.Name, ep.Port, name)
			}
			if ep.Path != "/metrics" {
				t.Errorf("ServiceMonitor %s: path %q, the services serve /metrics", sm.Name, ep.Path)
			}
		}
	}
}
