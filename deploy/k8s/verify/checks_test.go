package verify

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// servicePorts is docs/contract.md §8: the container port of each service,
// which is also where /healthz, /readyz and /metrics are served.
var servicePorts = map[string]int32{"extractor": 8081, "transformer": 8082, "cataloger": 8083}

// pgPort is docs/contract.md §8: the cataloger's PostgreSQL endpoint
// (ETL_PG_ADDR), container and Service port named pgPortName.
const (
	pgPort     int32 = 5432
	pgPortName       = "postgres"
)

// binDir is where deploy/Dockerfile installs the binaries; imageWorkDir is its
// WORKDIR, against which relative paths (ETL_QUERY_DATA_DIR) resolve.
const (
	binDir       = "/opt/spotify-etl/bin"
	imageWorkDir = "/var/lib/spotify-etl"
)

// checkCommon holds for every rendering that contains the base.
func checkCommon(t *testing.T, objs *Objects, overlay bool) {
	deployments := Of[*appsv1.Deployment](objs)
	seen := map[string]bool{}
	image := ""
	for _, d := range deployments {
		want, ok := servicePorts[d.Name]
		if !ok {
			t.Errorf("Deployment %s: not one of the services %v", d.Name, sortedKeys(servicePorts))
			continue
		}
		seen[d.Name] = true
		c := checkServiceDeployment(t, objs, d, want)
		if c == nil {
			continue
		}
		if image == "" {
			image = c.Image
		} else if c.Image != image {
			t.Errorf("Deployment %s: image %q differs from the other services' %q (one image holds all binaries)", d.Name, c.Image, image)
		}
	}
	for name := range servicePorts {
		if !seen[name] {
			t.Errorf("no Deployment %q", name)
		}
	}
	if image != "" {
		checkImageTag(t, "spotify-etl image", image)
	}
	checkTriggerCronJob(t, objs, image)
	checkAutoscalers(t, objs)
	checkNamespaces(t, objs, overlay)
	checkConfigMapValues(t, objs)
}

// checkServiceDeployment checks one service's Deployment and what refers to it;
// returns its container.
func checkServiceDeployment(t *testing.T, objs *Objects, d *appsv1.Deployment, port int32) *corev1.Container {
	where := "Deployment " + d.Name
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Errorf("%s: %d containers, want exactly one", where, len(spec.Containers))
		return nil
	}
	c := spec.Containers[0]
	if d.Spec.Selector == nil || !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("%s: its selector does not select its own pod template", where)
	}
	if want := path.Join(binDir, d.Name); len(c.Command) == 0 || c.Command[0] != want {
		t.Errorf("%s: command %v, want [%s]", where, c.Command, want)
	}
	found := false
	for _, p := range c.Ports {
		if p.ContainerPort == port {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: no container port %d (CONTRACT.md section 8); has %v", where, port, c.Ports)
	}
	addrVar := "ETL_" + strings.ToUpper(d.Name) + "_ADDR"
	if v, ok := envValue(c, addrVar); !ok {
		t.Errorf("%s: %s is not set in the container spec", where, addrVar)
	} else if _, p, err := splitHostPort(v); err != nil || p != port {
		t.Errorf("%s: %s=%q does not listen on the container port %d", where, addrVar, v, port)
	} else if h, _, _ := splitHostPort(v); h == "127.0.0.1" || h == "localhost" || h == "" {
		t.Errorf("%s: %s=%q listens on loopback only: probes and Services cannot reach it", where, addrVar, v)
	}
	checkProbe(t, where+" livenessProbe", c, c.LivenessProbe, "/healthz", port)
	checkProbe(t, where+" readinessProbe", c, c.ReadinessProbe, "/readyz", port)
	checkProbe(t, where+" startupProbe", c, c.StartupProbe, "/healthz", port)
	checkResources(t, where, c)
	checkPodSecurity(t, where, spec, c)
	checkServiceAccount(t, objs, where, spec)
	checkEnvReferences(t, objs, where, c)
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("%s: enableServiceLinks must be false (service-link variables would leak into the environment the services read)", where)
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds < 15 {
		t.Errorf("%s: terminationGracePeriodSeconds must leave the 10 s graceful shutdown room (>= 15)", where)
	}

	// The Service of the same name: same selector, the contract's port, a targetPort that resolves.
	svc, ok := Named[*corev1.Service](objs, d.Name)
	if !ok {
		t.Errorf("%s: no Service %q", where, d.Name)
	} else {
		if !selects(t, metaSelector(svc.Spec.Selector), d.Spec.Template.Labels) || len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s: selector %v does not select the pods of %s", svc.Name, svc.Spec.Selector, where)
		}
		okPort := false
		for _, sp := range svc.Spec.Ports {
			if sp.Port == port {
				if p, ok := containerPort(c, sp.TargetPort); ok && p == port {
					okPort = true
				}
			}
		}
		if !okPort {
			t.Errorf("Service %s: no port %d whose targetPort is the container's port %d", svc.Name, port, port)
		}
	}

	pdbs := 0
	for _, pdb := range Of[*policyv1.PodDisruptionBudget](objs) {
		if selects(t, pdb.Spec.Selector, d.Spec.Template.Labels) {
			pdbs++
		}
	}
	if pdbs != 1 {
		t.Errorf("%s: %d PodDisruptionBudgets select its pods, want 1", where, pdbs)
	}
	checkNetworkPolicies(t, objs, where, d.Spec.Template.Labels, port)
	if d.Name == "cataloger" {
		checkPostgresEndpoint(t, objs, where, d, c, port)
		checkQuerySpill(t, objs, where, spec, c)
	}
	return &c
}

// checkPostgresEndpoint: the cataloger's PostgreSQL endpoint (Grafana's data
// panels, BI tools) is reachable where its HTTP port is: ETL_PG_ADDR on every
// interface at the container port, the Service, and NetworkPolicies admitting
// it from every source that reaches the HTTP port.
func checkPostgresEndpoint(t *testing.T, objs *Objects, where string, d *appsv1.Deployment, c corev1.Container, httpPort int32) {
	if got, ok := containerPort(c, intstr.FromString(pgPortName)); !ok || got != pgPort {
		t.Errorf("%s: no container port %q = %d (the PostgreSQL endpoint, CONTRACT.md section 8)", where, pgPortName, pgPort)
	}
	if v, ok := envValue(c, "ETL_PG_ADDR"); !ok {
		t.Errorf("%s: ETL_PG_ADDR is not set: the PostgreSQL endpoint would listen on 127.0.0.1:%d, out of reach", where, pgPort)
	} else if h, p, err := splitHostPort(v); err != nil || p != pgPort {
		t.Errorf("%s: ETL_PG_ADDR=%q does not listen on the container port %d", where, v, pgPort)
	} else if h == "127.0.0.1" || h == "localhost" || h == "" || h == "[::1]" {
		t.Errorf("%s: ETL_PG_ADDR=%q listens on loopback only: the Service cannot reach it", where, v)
	}
	if svc, ok := Named[*corev1.Service](objs, d.Name); ok {
		okPort := false
		for _, sp := range svc.Spec.Ports {
			if p, ok := containerPort(c, sp.TargetPort); ok && sp.Port == pgPort && p == pgPort {
				okPort = true
			}
		}
		if !okPort {
			t.Errorf("Service %s: no port %d whose targetPort is the container's port %d (PostgreSQL)", svc.Name, pgPort, pgPort)
		}
	}
	// Every source admitted to the HTTP port is admitted to the PostgreSQL port.
	sources := func(port int32) map[string]bool {
		out := map[string]bool{}
		for _, np := range Of[*networkingv1.NetworkPolicy](objs) {
			if !selects(t, &np.Spec.PodSelector, d.Spec.Template.Labels) {
				continue
			}
			for _, rule := range np.Spec.Ingress {
				admits := len(rule.Ports) == 0
				for _, p := range rule.Ports {
					admits = admits || (p.Port != nil && p.Port.Type == intstr.Int && p.Port.IntVal == port)
				}
				if !admits {
					continue
				}
				if len(rule.From) == 0 {
					out["any source"] = true
				}
				for _, peer := range rule.From {
					out[describePeer(peer)] = true
				}
			}
		}
		return out
	}
	pg := sources(pgPort)
	for src := range sources(httpPort) {
		if !pg[src] && !pg["any source"] {
			t.Errorf("%s: NetworkPolicies admit %s to port %d but not to the PostgreSQL port %d", where, src, httpPort, pgPort)
		}
	}
}

func splitHostPort(v string) (string, int32, error) {
	i := strings.LastIndex(v, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("no port in %q", v)
	}
	p, err := strconv.Atoi(v[i+1:])
	if err != nil {
		return "", 0, err
	}
	return v[:i], int32(p), nil
}

func checkProbe(t *testing.T, where string, c corev1.Container, p *corev1.Probe, wantPath string, port int32) {
	if p == nil {
		t.Errorf("%s: missing", where)
		return
	}
	if p.HTTPGet == nil {
		t.Errorf("%s: not an httpGet probe", where)
		return
	}
	if p.HTTPGet.Path != wantPath {
		t.Errorf("%s: path %q, want %q", where, p.HTTPGet.Path, wantPath)
	}
	if got, ok := containerPort(c, p.HTTPGet.Port); !ok || got != port {
		t.Errorf("%s: port %s does not resolve to the container port %d", where, p.HTTPGet.Port.String(), port)
	}
	if p.HTTPGet.Scheme != "" && p.HTTPGet.Scheme != corev1.URISchemeHTTP {
		t.Errorf("%s: scheme %s, the services speak plain HTTP", where, p.HTTPGet.Scheme)
	}
}

func checkResources(t *testing.T, where string, c corev1.Container) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
			t.Errorf("%s: no %s request", where, r)
		}
	}
	lim, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok || lim.IsZero() {
		t.Errorf("%s: no memory limit", where)
	} else if req, ok := c.Resources.Requests[corev1.ResourceMemory]; ok && lim.Cmp(req) < 0 {
		t.Errorf("%s: memory limit %s below the request %s", where, lim.String(), req.String())
	}
}

// checkPodSecurity: the restricted Pod Security profile, plus a read-only root
// filesystem with a writable /tmp.
func checkPodSecurity(t *testing.T, where string, spec corev1.PodSpec, c corev1.Container) {
	psc := spec.SecurityContext
	csc := c.SecurityContext
	if csc == nil {
		t.Errorf("%s: container has no securityContext", where)
		return
	}
	nonRoot := (csc.RunAsNonRoot != nil && *csc.RunAsNonRoot) || (csc.RunAsNonRoot == nil && psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	if !nonRoot {
		t.Errorf("%s: runAsNonRoot is not true", where)
	}
	uid := csc.RunAsUser
	if uid == nil && psc != nil {
		uid = psc.RunAsUser
	}
	if uid == nil || *uid == 0 {
		t.Errorf("%s: no numeric non-zero runAsUser (the image's user is 10001)", where)
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem is not true", where)
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	}
	if csc.Privileged != nil && *csc.Privileged {
		t.Errorf("%s: privileged", where)
	}
	dropsAll := false
	if csc.Capabilities != nil {
		for _, cap := range csc.Capabilities.Drop {
			if cap == "ALL" {
				dropsAll = true
			}
		}
		if len(csc.Capabilities.Add) > 0 {
			t.Errorf("%s: adds capabilities %v", where, csc.Capabilities.Add)
		}
	}
	if !dropsAll {
		t.Errorf("%s: capabilities do not drop ALL", where)
	}
	seccomp := csc.SeccompProfile
	if seccomp == nil && psc != nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile is not RuntimeDefault", where)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken is not false (the services never call the API server)", where)
	}
	// The read-only root needs a writable /tmp (TMPDIR: DuckDB spill, Parquet scratch).
	tmp := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/tmp" {
			for _, v := range spec.Volumes {
				if v.Name == m.Name && v.EmptyDir != nil {
					tmp = true
				}
			}
		}
	}
	if !tmp {
		t.Errorf("%s: no emptyDir mounted at /tmp", where)
	}
	checkTableCache(t, where, spec, c)
}

// checkTableCache: the cataloger's local copy of the tables (ETL_CATALOG_CACHE_DIR)
// must be on a volume (the root filesystem is read-only), and its bound
// (ETL_CATALOG_CACHE_MAX_BYTES) below that volume's sizeLimit, or the kubelet
// evicts the pod before the cataloger refuses to grow the copy.
func checkTableCache(t *testing.T, where string, spec corev1.PodSpec, c corev1.Container) {
	dir, max := "", ""
	for _, e := range c.Env {
		switch e.Name {
		case "ETL_CATALOG_CACHE_DIR":
			dir = e.Value
		case "ETL_CATALOG_CACHE_MAX_BYTES":
			max = e.Value
		}
	}
	if dir == "" {
		return
	}
	var mount *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/") {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Errorf("%s: ETL_CATALOG_CACHE_DIR=%s is not on a mounted volume (the root filesystem is read-only)", where, dir)
		return
	}
	if max == "" {
		t.Errorf("%s: ETL_CATALOG_CACHE_DIR is set without ETL_CATALOG_CACHE_MAX_BYTES (the default 20G may pass the volume)", where)
		return
	}
	bytes, err := parseSize(max)
	if err == nil && bytes == 0 {
		err = fmt.Errorf("at least 1M")
	}
	if err != nil {
		t.Errorf("%s: ETL_CATALOG_CACHE_MAX_BYTES=%q: %v", where, max, err)
		return
	}
	for _, v := range spec.Volumes {
		if v.Name != mount.Name || v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil {
			continue
		}
		if limit := v.EmptyDir.SizeLimit.Value(); bytes >= limit {
			t.Errorf("%s: ETL_CATALOG_CACHE_MAX_BYTES=%s (%d bytes) is not below the sizeLimit of volume %s (%d bytes)",
				where, max, bytes, v.Name, limit)
		}
	}
}

// describePeer names a NetworkPolicy source in words (and as a map key).
func describePeer(p networkingv1.NetworkPolicyPeer) string {
	selector := func(what string, sel *metav1.LabelSelector) string {
		if len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
			return "every " + what
		}
		return what + "s " + metav1.FormatLabelSelector(sel)
	}
	switch {
	case p.IPBlock != nil:
		return fmt.Sprintf("ipBlock %s except %v", p.IPBlock.CIDR, p.IPBlock.Except)
	case p.NamespaceSelector != nil && p.PodSelector != nil:
		return selector("pod", p.PodSelector) + " in " + selector("namespace", p.NamespaceSelector)
	case p.NamespaceSelector != nil:
		return selector("namespace", p.NamespaceSelector)
	case p.PodSelector != nil:
		return selector("pod", p.PodSelector) + " of this namespace"
	}
	return "an empty peer"
}

// checkQuerySpill: DuckDB's spill files (ETL_QUERY_MAX_TEMP_BYTES, default 4G)
// go to ETL_QUERY_DATA_DIR (default ./data/cataloger, under the working
// directory), which must be on a volume, and twice the cap (a renewed query
// database may spill next to the old one, each with its own cap), plus the
// table cache when ETL_CATALOG_READS=mirror keeps it on the same volume, must
// stay below that volume's sizeLimit: or the kubelet evicts the pod before
// DuckDB fails the query that spills too much.
func checkQuerySpill(t *testing.T, objs *Objects, where string, spec corev1.PodSpec, c corev1.Container) {
	setting := func(name, def string) string {
		if v := effectiveEnv(objs, c, name); v != "" {
			return v
		}
		return def
	}
	workDir := c.WorkingDir
	if workDir == "" {
		workDir = imageWorkDir
	}
	resolve := func(dir string) string {
		if path.IsAbs(dir) {
			return path.Clean(dir)
		}
		return path.Join(workDir, dir)
	}
	// The volume a folder is on: the mount with the longest path that holds it.
	volumeOf := func(dir string) *corev1.VolumeMount {
		var found *corev1.VolumeMount
		for i, m := range c.VolumeMounts {
			mp := path.Clean(m.MountPath)
			if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && (found == nil || len(mp) > len(path.Clean(found.MountPath))) {
				found = &c.VolumeMounts[i]
			}
		}
		return found
	}
	dataDir := resolve(setting("ETL_QUERY_DATA_DIR", "./data/cataloger"))
	mount := volumeOf(dataDir)
	if mount == nil {
		t.Errorf("%s: ETL_QUERY_DATA_DIR=%s (DuckDB's spill files) is not on a mounted volume (the root filesystem is read-only)", where, dataDir)
		return
	}
	capSetting := setting("ETL_QUERY_MAX_TEMP_BYTES", "4G")
	spill, err := parseSize(capSetting)
	if err != nil {
		t.Errorf("%s: ETL_QUERY_MAX_TEMP_BYTES=%q: %v", where, capSetting, err)
		return
	}
	if spill == 0 {
		t.Errorf("%s: ETL_QUERY_MAX_TEMP_BYTES=0 leaves DuckDB's own cap (90%% of the free disk), not the volume's", where)
		return
	}
	need, what := 2*spill, fmt.Sprintf("twice ETL_QUERY_MAX_TEMP_BYTES=%s", capSetting)
	if strings.EqualFold(setting("ETL_CATALOG_READS", "in_place"), "mirror") {
		cacheDir := resolve(setting("ETL_CATALOG_CACHE_DIR", "./data/cataloger-cache"))
		if m := volumeOf(cacheDir); m != nil && m.Name == mount.Name {
			cacheSetting := setting("ETL_CATALOG_CACHE_MAX_BYTES", "20G")
			if cache, err := parseSize(cacheSetting); err == nil {
				need += cache
				what += fmt.Sprintf(" plus ETL_CATALOG_CACHE_MAX_BYTES=%s (the table cache, on the same volume)", cacheSetting)
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.Name != mount.Name || v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil {
			continue
		}
		if limit := v.EmptyDir.SizeLimit.Value(); need >= limit {
			t.Errorf("%s: %s (%d bytes) is not below the sizeLimit of volume %s (%d bytes), which holds ETL_QUERY_DATA_DIR=%s",
				where, what, need, v.Name, limit, dataDir)
		}
	}
}

// effectiveEnv is the value a container sees for a variable: its literal env
// entry, else the last envFrom ConfigMap in the rendering that has the key; ""
// when neither sets it (the services read an empty variable as unset).
func effectiveEnv(objs *Objects, c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value
		}
	}
	value := ""
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		if cm, ok := Named[*corev1.ConfigMap](objs, ef.ConfigMapRef.Name); ok {
			if v, ok := cm.Data[strings.TrimPrefix(name, ef.Prefix)]; ok && strings.HasPrefix(name, ef.Prefix) {
				value = v
			}
		}
	}
	return value
}

// parseSize reads a size as the services do (parse_byte_size in
// shared/src/core/config.cpp): digits with an optional K/M/G/T suffix, powers
// of 1024, a trailing B or iB allowed (KiB, MB).
func parseSize(v string) (int64, error) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	suffix := strings.ToUpper(v[i:])
	if len(suffix) > 1 {
		suffix = strings.TrimSuffix(suffix, "B")
	}
	if len(suffix) > 1 {
		suffix = strings.TrimSuffix(suffix, "I")
	}
	shift, ok := map[string]uint{"": 0, "B": 0, "K": 10, "M": 20, "G": 30, "T": 40}[suffix]
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if !ok || err != nil || n > (1<<62)>>shift {
		return 0, fmt.Errorf("not a size (digits with an optional K/M/G/T suffix)")
	}
	return n << shift, nil
}

func checkServiceAccount(t *testing.T, objs *Objects, where string, spec corev1.PodSpec) {
	if spec.ServiceAccountName == "" || spec.ServiceAccountName == "default" {
		t.Errorf("%s: runs as the default ServiceAccount; give it its own", where)
		return
	}
	if _, ok := Named[*corev1.ServiceAccount](objs, spec.ServiceAccountName); !ok {
		t.Errorf("%s: ServiceAccount %q is not in the rendering", where, spec.ServiceAccountName)
	}
}

// operatorSecrets are created by the operator (deploy/README.md) and required:
// the API token, without which the services refuse to listen on 0.0.0.0.
var operatorSecrets = map[string]bool{"spotify-etl-api": true}

// checkEnvReferences: ConfigMaps must be in the rendering; Secrets too unless
// the reference is optional or names an operator-created Secret. The API
// token is never optional.
func checkEnvReferences(t *testing.T, objs *Objects, where string, c corev1.Container) {
	hasConfigMap := func(name string) bool { _, ok := Named[*corev1.ConfigMap](objs, name); return ok }
	hasSecret := func(name string) bool {
		_, ok := Named[*corev1.Secret](objs, name)
		return ok || operatorSecrets[name]
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil && !hasConfigMap(ef.ConfigMapRef.Name) && !isTrue(ef.ConfigMapRef.Optional) {
			t.Errorf("%s: envFrom ConfigMap %q is not in the rendering", where, ef.ConfigMapRef.Name)
		}
		if ef.SecretRef != nil && !hasSecret(ef.SecretRef.Name) && !isTrue(ef.SecretRef.Optional) {
			t.Errorf("%s: envFrom Secret %q is neither in the rendering nor optional", where, ef.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			if looksSecret(e.Name) && e.Value != "" {
				t.Errorf("%s: %s is a literal in the manifest; take it from a Secret", where, e.Name)
			}
			continue
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !hasConfigMap(r.Name) && !isTrue(r.Optional) {
			t.Errorf("%s: %s: ConfigMap %q is not in the rendering", where, e.Name, r.Name)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil && !hasSecret(r.Name) && !isTrue(r.Optional) {
			t.Errorf("%s: %s: Secret %q is neither in the rendering nor optional", where, e.Name, r.Name)
		}
		if r := e.ValueFrom.SecretKeyRef; e.Name == "ETL_API_TOKEN" && (r == nil || isTrue(r.Optional)) {
			t.Errorf("%s: ETL_API_TOKEN must come from a required Secret key", where)
		}
	}
}

func looksSecret(name string) bool {
	for _, s := range []string{"SECRET", "TOKEN", "PASSWORD", "ACCESS_KEY"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// checkNetworkPolicies: the pods are under a default deny (some policy selects
// them for Ingress and Egress) and some policy lets their port in.
func checkNetworkPolicies(t *testing.T, objs *Objects, where string, podLabels map[string]string, port int32) {
	ingress, egress, portOpen := false, false, false
	for _, np := range Of[*networkingv1.NetworkPolicy](objs) {
		if !selects(t, &np.Spec.PodSelector, podLabels) {
			continue
		}
		for _, pt := range np.Spec.PolicyTypes {
			switch pt {
			case networkingv1.PolicyTypeIngress:
				ingress = true
			case networkingv1.PolicyTypeEgress:
				egress = true
			}
		}
		for _, rule := range np.Spec.Ingress {
			for _, peer := range rule.From {
				if ns := peer.NamespaceSelector; ns != nil && len(ns.MatchLabels) == 0 && len(ns.MatchExpressions) == 0 {
					t.Errorf("%s: NetworkPolicy %s admits every namespace; name the ones that need it", where, np.Name)
				}
			}
			for _, p := range rule.Ports {
				if p.Port != nil && p.Port.Type == intstr.Int && p.Port.IntVal == port {
					portOpen = true
				}
			}
		}
	}
	if !ingress || !egress {
		t.Errorf("%s: its pods are not under NetworkPolicies for both Ingress and Egress", where)
	}
	if !portOpen {
		t.Errorf("%s: no NetworkPolicy admits traffic to port %d", where, port)
	}
}

func checkImageTag(t *testing.T, where, image string) {
	name := image
	if i := strings.LastIndex(image, "/"); i >= 0 {
		name = image[i+1:]
	}
	if !strings.Contains(name, ":") && !strings.Contains(image, "@sha256:") {
		t.Errorf("%s: image %q has no tag", where, image)
	} else if strings.HasSuffix(image, ":latest") {
		t.Errorf("%s: image %q uses :latest", where, image)
	}
}

func metaSelector(m map[string]string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: m}
}
