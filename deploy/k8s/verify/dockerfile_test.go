package verify

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	appsv1 "k8s.io/api/apps/v1"
)

// No container engine here, so the image is not built; instead deploy/Dockerfile
// is parsed and linted with BuildKit's own Dockerfile frontend (the parser and
// instruction checks `docker build` runs first), and checked against what the
// manifests expect of the image.
func TestDockerfileParsesLintsAndFitsTheManifests(t *testing.T) {
	deployDir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	result, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Dockerfile does not parse: %v", err)
	}
	for _, w := range result.Warnings {
		t.Errorf("Dockerfile line %d: %s", w.Location.Start.Line, w.Short)
	}
	var lint []string
	l := linter.New(&linter.Config{Warn: func(rule, description, url, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		lint = append(lint, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
	}})
	stages, metaArgs, err := instructions.Parse(result.AST, l)
	if err != nil {
		t.Fatalf("Dockerfile instructions: %v", err)
	}
	for _, w := range lint {
		t.Errorf("Dockerfile lint: %s", w)
	}
	if len(stages) != 2 || stages[0].Name != "build" || stages[1].Name != "runtime" {
		names := []string{}
		for _, s := range stages {
			names = append(names, s.Name)
		}
		t.Fatalf("stages %v, want [build runtime] (the last one is the image)", names)
	}
	release := ""
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Key == "DEBIAN_RELEASE" && kv.Value != nil {
				release = *kv.Value
			}
		}
	}
	if release != "bookworm" {
		t.Errorf("ARG DEBIAN_RELEASE=%q, want bookworm (the Debian the project builds on)", release)
	}
	if stages[0].BaseName != "debian:${DEBIAN_RELEASE}" || stages[1].BaseName != "debian:${DEBIAN_RELEASE}-slim" {
		t.Errorf("base images %q / %q, want debian:${DEBIAN_RELEASE} / debian:${DEBIAN_RELEASE}-slim", stages[0].BaseName, stages[1].BaseName)
	}

	// The build stage: the project's setup script and exactly the sources the
	// ignore file lets through.
	var buildRuns []string
	var copied []string
	for _, cmd := range stages[0].Commands {
		switch c := cmd.(type) {
		case *instructions.RunCommand:
			buildRuns = append(buildRuns, strings.Join(c.CmdLine, " "))
		case *instructions.CopyCommand:
			copied = append(copied, c.SourcePaths...)
		}
	}
	allRuns := strings.Join(buildRuns, "\n")
	for _, want := range []string{"scripts/setup.sh", "extractor transformer cataloger spotify-etl",
		"CMAKE_BUILD_WITH_INSTALL_RPATH=ON", "libduckdb.so", "/out/opt/spotify-etl/bin", "/out/opt/spotify-etl/lib"} {
		if !strings.Contains(allRuns, want) {
			t.Errorf("build stage: its RUN steps do not mention %q", want)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile.dockerignore"))
	if err != nil {
		t.Fatalf("deploy/Dockerfile.dockerignore: %v (BuildKit reads it next to the Dockerfile)", err)
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(ignore))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range copied {
		for _, p := range []string{src, path.Join(src, "src", "x.cpp")} {
			if p != src && !strings.HasSuffix(src, "/") && path.Ext(src) != "" {
				continue
			}
			if excluded, _ := pm.MatchesOrParentMatches(strings.TrimSuffix(p, "/")); excluded {
				t.Errorf("COPY %s: %s is excluded by Dockerfile.dockerignore", src, p)
			}
		}
	}
	for _, p := range []string{"build/bin/extractor", "build-asan/CMakeCache.txt", ".git/config", "data/raw/x.json", "deploy/compose.yaml"} {
		if excluded, _ := pm.MatchesOrParentMatches(p); !excluded {
			t.Errorf("Dockerfile.dockerignore sends %s to the build", p)
		}
	}

	// The runtime stage: non-root 10001, the contract's ports, no init, and the
	// working directory and /tmp that the manifests mount emptyDirs on.
	runtime := stages[1]
	user, workdir, entrypoint := "", "", []string(nil)
	env := map[string]string{}
	exposed := map[string]bool{}
	copiedFromBuild := false
	for _, cmd := range runtime.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.WorkdirCommand:
			workdir = c.Path
		case *instructions.EntrypointCommand:
			entrypoint = c.CmdLine
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.ExposeCommand:
			for _, p := range c.Ports {
				exposed[p] = true
			}
		case *instructions.CopyCommand:
			if c.From == "build" {
				copiedFromBuild = true
				if len(c.SourcePaths) != 1 || c.SourcePaths[0] != "/out/opt/spotify-etl" || c.DestPath != "/opt/spotify-etl" {
					t.Errorf("runtime stage: COPY --from=build %v %s, want only /out/opt/spotify-etl -> /opt/spotify-etl", c.SourcePaths, c.DestPath)
				}
			}
		}
	}
	if user != "10001:10001" {
		t.Errorf("runtime stage: USER %q, want 10001:10001 (numeric, so runAsNonRoot can check it)", user)
	}
	if !copiedFromBuild {
		t.Errorf("runtime stage: nothing is copied from the build stage")
	}
	if len(entrypoint) > 0 {
		t.Errorf("runtime stage: ENTRYPOINT %v; the binaries handle SIGTERM themselves and the manifests set the command", entrypoint)
	}
	for name, port := range servicePorts {
		if !exposed[fmt.Sprint(port)] {
			t.Errorf("runtime stage: port %d (%s) is not EXPOSEd", port, name)
		}
	}
	if workdir != imageWorkDir {
		t.Errorf("runtime stage: WORKDIR %q, the manifest checks resolve relative paths against %q (imageWorkDir)", workdir, imageWorkDir)
	}
	if env["TMPDIR"] != "/tmp" || env["HOME"] != workdir {
		t.Errorf("runtime stage: TMPDIR=%q HOME=%q, want /tmp and the working directory %q", env["TMPDIR"], env["HOME"], workdir)
	}
	if !strings.HasPrefix(env["PATH"], binDir+":") {
		t.Errorf("runtime stage: PATH does not start with %s", binDir)
	}

	objs := NewObjects(decodeAll(t, "overlays/local", render(t, filepath.Join(deployDir, "k8s", "overlays", "local"))))
	for _, d := range Of[*appsv1.Deployment](objs) {
		spec := d.Spec.Template.Spec
		for _, c := range spec.Containers {
			for _, dir := range []string{"/tmp", workdir} {
				mounted := false
				for _, m := range c.VolumeMounts {
					for _, v := range spec.Volumes {
						if m.Name == v.Name && m.MountPath == dir && v.EmptyDir != nil {
							mounted = true
						}
					}
				}
				if !mounted {
					t.Errorf("Deployment %s: no emptyDir on %s, which the image writes to under a read-only root", d.Name, dir)
				}
			}
		}
	}
}
