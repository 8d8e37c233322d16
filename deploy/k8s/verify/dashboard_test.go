package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The Grafana dashboard may only chart metrics the services export: every
// spotify_etl_* name in its queries must be registered somewhere in the C++
// sources (as a string literal), so a renamed metric fails here rather than
// as an empty panel.
func TestDashboardChartsOnlyMetricsTheServicesExport(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repo, "deploy", "grafana", "spotify-etl-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard has no uid or no panels")
	}

	sources := cppSources(t)
	metric := regexp.MustCompile(`spotify_etl_[a-z0-9_]+`)
	ids := map[int]bool{}
	used := map[string][]string{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: duplicate id %d", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q: no queries", p.Title)
		}
		for _, target := range p.Targets {
			for _, m := range metric.FindAllString(target.Expr, -1) {
				name := m
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					name = strings.TrimSuffix(name, suffix)
				}
				used[name] = append(used[name], p.Title)
			}
		}
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.Contains(sources, `"`+n+`"`) {
			t.Errorf("metric %s (panels %q) is exported by no service", n, used[n])
		}
	}
	for _, want := range []string{"spotify_etl_extractor_runs_total", "spotify_etl_rows_written_total",
		"spotify_etl_transform_duration_seconds", "spotify_etl_cataloger_query_duration_seconds",
		"spotify_etl_events_consumed_total", "spotify_etl_events_dead_lettered_total", "spotify_etl_http_request_duration_seconds"} {
		if _, ok := used[want]; !ok {
			t.Errorf("the dashboard does not chart %s", want)
		}
	}
	if !strings.Contains(string(data), "kafka_consumergroup_lag") {
		t.Errorf("the dashboard does not chart the consumer lag (kafka_consumergroup_lag)")
	}
}

// cppSources is the text of the services' C++ sources, where every metric they
// export is registered by name as a string literal.
func cppSources(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var sources strings.Builder
	for _, pattern := range []string{"shared/src/*.cpp", "shared/src/*/*.cpp", "services/*/src/*.cpp", "services/*/src/*/*.cpp", "services/*/*.cpp"} {
		files, _ := filepath.Glob(filepath.Join(repo, pattern))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err == nil {
				sources.Write(b)
			}
		}
	}
	if sources.Len() == 0 {
		t.Skip("no C++ sources next to this module")
	}
	return sources.String()
}
