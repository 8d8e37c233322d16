package verify

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"sigs.k8s.io/yaml"
)

// The alerting rules of components/prometheus-rules, checked with Prometheus's
// own code: the groups load as a rules file (rulefmt, which parses every
// expression and template), every metric they read is one the services export
// (or the Kafka exporter's lag), and every alert is evaluated the way a
// Prometheus server would (rules.AlertingRule, minute by minute, its `for`
// included) against series that must fire it and series that must not.

const rulesComponent = "components/prometheus-rules"

// An alert's scenario: series in promqltest's `load` notation (one sample a
// minute from time 0), the minute evaluated last, and whether the alert fires then.
type alertScenario struct {
	what   string
	series string
	at     int
	fires  bool
}

var alertScenarios = map[string][]alertScenario{
	"SpotifyEtlExtractorRunsFailing": {
		{"a run failed 15 min ago", `spotify_etl_extractor_runs_total{status="failed",namespace="etl",pod="extractor-0"} 0x30 1x30`, 45, true},
		{"runs succeed", `spotify_etl_extractor_runs_total{status="failed",namespace="etl",pod="extractor-0"} 0x60
spotify_etl_extractor_runs_total{status="succeeded",namespace="etl",pod="extractor-0"} 0+1x60`, 45, false},
		{"the last failure is over an hour old", `spotify_etl_extractor_runs_total{status="failed",namespace="etl",pod="extractor-0"} 0x10 1x90`, 90, false},
	},
	"SpotifyEtlEventsDeadLettered": {
		{"one more dead letter", `spotify_etl_events_dead_lettered_total{consumer="transformer",namespace="etl",pod="transformer-0"} 1x10 2x30`, 20, true},
		{"the process's first dead letter: a new series at 1", `spotify_etl_events_dead_lettered_total{consumer="transformer",namespace="etl",pod="transformer-0"} _x10 1x30`, 20, true},
		{"none for 15 min", `spotify_etl_events_dead_lettered_total{consumer="transformer",namespace="etl",pod="transformer-0"} _x10 1x50`, 40, false},
	},
	"SpotifyEtlEventPublishFailures": {
		{"one more failure", `spotify_etl_extractor_event_publish_failures_total{namespace="etl",pod="extractor-0"} 2x10 5x30`, 20, true},
		{"the first failure: a new series", `spotify_etl_extractor_event_publish_failures_total{namespace="etl",pod="extractor-0"} _x15 1x30`, 20, true},
		{"none for 15 min", `spotify_etl_extractor_event_publish_failures_total{namespace="etl",pod="extractor-0"} 3x60`, 40, false},
	},
	"SpotifyEtlConsumerStalled": {
		{"retries, nothing acknowledged", `spotify_etl_event_retries_total{consumer="transformer",namespace="etl",pod="transformer-0"} 0+5x40
spotify_etl_events_consumed_total{consumer="transformer",namespace="etl",pod="transformer-0"} 100x40`, 30, true},
		{"retries, and no event ever acknowledged", `spotify_etl_event_retries_total{consumer="cataloger",namespace="etl",pod="cataloger-0"} 0+5x40`, 30, true},
		{"retries while events are acknowledged", `spotify_etl_event_retries_total{consumer="transformer",namespace="etl",pod="transformer-0"} 0+5x40
spotify_etl_events_consumed_total{consumer="transformer",namespace="etl",pod="transformer-0"} 0+10x40`, 30, false},
		{"stalled for less than 10 min", `spotify_etl_event_retries_total{consumer="transformer",namespace="etl",pod="transformer-0"} 0x30 0+5x10
spotify_etl_events_consumed_total{consumer="transformer",namespace="etl",pod="transformer-0"} 0+10x30 300x10`, 38, false},
	},
	"SpotifyEtlConsumerLagging": {
		{"1,200 behind over two partitions for 20 min", `kafka_consumergroup_lag{consumergroup="spotify-etl-transformer",topic="spotify.raw.events",partition="0"} 600x40
kafka_consumergroup_lag{consumergroup="spotify-etl-transformer",topic="spotify.raw.events",partition="1"} 600x40`, 30, true},
		{"another group's lag", `kafka_consumergroup_lag{consumergroup="someone-else",topic="spotify.raw.events",partition="0"} 5000x40
kafka_consumergroup_lag{consumergroup="spotify-etl-transformer",topic="spotify.raw.events",partition="0"} 10x40`, 30, false},
	},
	"SpotifyEtlTransformInternalErrors": {
		{"internal errors", `spotify_etl_transform_errors_total{code="internal",namespace="etl",pod="transformer-0"} 0x10 3x30`, 20, true},
		{"bad data only (dead-lettered, another alert)", `spotify_etl_transform_errors_total{code="internal",namespace="etl",pod="transformer-0"} 0x40
spotify_etl_transform_errors_total{code="bad_data",namespace="etl",pod="transformer-0"} 0+1x40`, 20, false},
	},
	"SpotifyEtlCrawlsFailing": {
		{"a failed crawl", `spotify_etl_cataloger_crawls_total{trigger="events",state="FAILED",namespace="etl",pod="cataloger-0"} 1x10 2x30`, 20, true},
		{"the first failed crawl: a new series", `spotify_etl_cataloger_crawls_total{trigger="events",state="FAILED",namespace="etl",pod="cataloger-0"} _x10 1x30`, 20, true},
		{"crawls succeed", `spotify_etl_cataloger_crawls_total{trigger="events",state="SUCCEEDED",namespace="etl",pod="cataloger-0"} 0+3x60
spotify_etl_cataloger_crawls_total{trigger="startup",state="FAILED",namespace="etl",pod="cataloger-0"} 1x60`, 45, false},
	},
	"SpotifyEtlGlueTablesUnpublished": {
		{"two tables unpublished for 45 min", `spotify_etl_cataloger_tables_unpublished{namespace="etl",pod="cataloger-0"} 2x60`, 45, true},
		{"unpublished for 25 min only", `spotify_etl_cataloger_tables_unpublished{namespace="etl",pod="cataloger-0"} 1x30`, 25, false},
		{"published again", `spotify_etl_cataloger_tables_unpublished{namespace="etl",pod="cataloger-0"} 2x20 0x40`, 45, false},
	},
	"SpotifyEtlQueryEngineRestarting": {
		{"three restarts in 20 min", `spotify_etl_cataloger_query_engine_starts_total{namespace="etl",pod="cataloger-0"} 1x10 2x5 3x5 4x20`, 30, true},
		{"one restart", `spotify_etl_cataloger_query_engine_starts_total{namespace="etl",pod="cataloger-0"} 1x10 2x50`, 40, false},
	},
	"SpotifyEtlQueriesRejected": {
		{"429s for 25 min", `spotify_etl_cataloger_query_rejected_total{namespace="etl",pod="cataloger-0"} 0+2x30`, 25, true},
		{"a burst that ended", `spotify_etl_cataloger_query_rejected_total{namespace="etl",pod="cataloger-0"} 0+2x5 10x30`, 30, false},
	},
	"SpotifyEtlSpotifyErrors": {
		{"20% 503s", `spotify_etl_spotify_requests_total{status="200",namespace="etl",pod="extractor-0"} 0+80x40
spotify_etl_spotify_requests_total{status="503",namespace="etl",pod="extractor-0"} 0+20x40`, 35, true},
		{"1% errors, and 429s (waited out, another alert)", `spotify_etl_spotify_requests_total{status="200",namespace="etl",pod="extractor-0"} 0+99x40
spotify_etl_spotify_requests_total{status="error",namespace="etl",pod="extractor-0"} 0+1x40
spotify_etl_spotify_requests_total{status="429",namespace="etl",pod="extractor-0"} 0+50x40`, 35, false},
	},
	"SpotifyEtlSpotifyRateLimited": {
		{"40 s of every minute waiting", `spotify_etl_spotify_rate_limit_wait_seconds_total{namespace="etl",pod="extractor-0"} 0+40x40`, 35, true},
		{"10 s of every minute", `spotify_etl_spotify_rate_limit_wait_seconds_total{namespace="etl",pod="extractor-0"} 0+10x40`, 35, false},
	},
}

func checkPrometheusRulesComponent(t *testing.T, objs *Objects) {
	found := Of[*PrometheusRule](objs)
	if len(found) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(found))
	}
	if len(found[0].Spec.Groups) == 0 {
		t.Fatalf("PrometheusRule %s: no rule groups", found[0].Name)
	}
}

func renderedRules(t *testing.T) *PrometheusRule {
	t.Helper()
	objs := renderComponentOnHost(t, k8sDir(t), rulesComponent)
	found := Of[*PrometheusRule](objs)
	if len(found) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(found))
	}
	return found[0]
}

func TestAlertRulesLoadAsAPrometheusRulesFile(t *testing.T) {
	pr := renderedRules(t)
	file, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := rulefmt.Parse(file, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, e := range errs {
		t.Errorf("rules file: %v", e)
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			for _, key := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("alert %s: no %s annotation", r.Alert, key)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("alert %s: severity %q, want critical, warning or info", r.Alert, s)
			}
		}
	}
}

// A renamed or misspelt metric would make an alert that never fires.
func TestAlertRulesReadOnlyMetricsTheServicesExport(t *testing.T) {
	sources := cppSources(t)
	p := parser.NewParser(parser.Options{})
	for _, g := range renderedRules(t).Spec.Groups {
		for _, r := range g.Rules {
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Errorf("%s: %v", r.Alert, err)
				continue
			}
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				vs, ok := node.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				if vs.Name == "kafka_consumergroup_lag" { // the Kafka exporter's (deploy/README.md "Observe")
					return nil
				}
				if !strings.HasPrefix(vs.Name, "spotify_etl_") || !strings.Contains(sources, `"`+vs.Name+`"`) {
					t.Errorf("alert %s reads %q, which no service exports", r.Alert, vs.Name)
				}
				return nil
			})
		}
	}
}

func TestEveryAlertFiresOnItsScenariosAndOnlyThere(t *testing.T) {
	pr := renderedRules(t)
	p := parser.NewParser(parser.Options{})
	seen := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			seen[r.Alert] = true
			scenarios := alertScenarios[r.Alert]
			fires, quiet := 0, 0
			for _, s := range scenarios {
				if s.fires {
					fires++
				} else {
					quiet++
				}
			}
			if fires == 0 || quiet == 0 {
				t.Errorf("alert %s: needs a scenario that fires it and one that does not (%d, %d)", r.Alert, fires, quiet)
			}
			for _, s := range scenarios {
				t.Run(r.Alert+"/"+s.what, func(t *testing.T) {
					got := firesAt(t, p, r, s)
					if got != s.fires {
						t.Errorf("fires=%v at minute %d, want %v; expr:\n%s\nseries:\n%s", got, s.at, s.fires, r.Expr, s.series)
					}
				})
			}
		}
	}
	for name := range alertScenarios {
		if !seen[name] {
			t.Errorf("scenarios for %s, an alert the rules do not have", name)
		}
	}
}

// firesAt evaluates the alert once a minute from 0 to s.at, as a rule manager
// would, and says whether it is firing then. A firing alert's annotations must
// expand without a template error.
func firesAt(t *testing.T, p parser.Parser, r Rule, s alertScenario) bool {
	t.Helper()
	store := promqltest.LoadedStorage(t, "load 1m\n  "+strings.ReplaceAll(s.series, "\n", "\n  "))
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	expr, err := p.ParseExpr(r.Expr)
	if err != nil {
		t.Fatal(err)
	}
	hold, keep := duration(t, r.For), duration(t, r.KeepFiringFor)
	rule := rules.NewAlertingRule(r.Alert, expr, hold, keep, labels.FromMap(r.Labels), labels.FromMap(r.Annotations),
		labels.EmptyLabels(), "", false, slog.New(slog.DiscardHandler))
	query := rules.EngineQueryFunc(engine, store)
	for minute := 0; minute <= s.at; minute++ {
		if _, err := rule.Eval(context.Background(), 0, time.Unix(int64(minute)*60, 0), query, nil, 0); err != nil {
			t.Fatalf("minute %d: %v", minute, err)
		}
	}
	firing := false
	for _, a := range rule.ActiveAlerts() {
		if a.State != rules.StateFiring {
			continue
		}
		firing = true
		a.Annotations.Range(func(l labels.Label) {
			if strings.Contains(l.Value, "error expanding") || strings.Contains(l.Value, "<no value>") {
				t.Errorf("annotation %s: %s", l.Name, l.Value)
			}
		})
	}
	return firing
}

func duration(t *testing.T, text string) time.Duration {
	t.Helper()
	if text == "" {
		return 0
	}
	d, err := model.ParseDuration(text)
	if err != nil {
		t.Fatalf("duration %q: %v", text, err)
	}
	return time.Duration(d)
}
