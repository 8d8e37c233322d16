// grafana-driver runs SQL against a PostgreSQL endpoint through pgx v5, the Go
// driver of Grafana's built-in PostgreSQL data source (grafana-postgresql-datasource),
// in both of pgx's query modes: "simple" (the simple query protocol, what Grafana's
// lib/pq-era data source sent) and "extended" (pgx's default: a prepared, cached
// statement through Parse/Describe/Bind/Execute). Values are decoded the way pgx
// decodes them, by the type OIDs the server sends, so a wrong OID or a value that
// does not parse as its type fails here the way it would fail in a Grafana panel.
//
// Reads {"dsn": "...", "queries": ["...", ...], "args": [[...], ...]} on stdin ("args",
// optional, one list per query: what a Go service passes with $1, $2 ...; JSON numbers
// become int64 when whole, float64 otherwise, {"time": RFC 3339} a time.Time, and a
// list of strings a []string); writes
// {"simple": [result, ...], "extended": [...]} on stdout, where a result is
// {"columns": [{"name", "oid"}], "rows": [[value, ...]]} or {"error": "..."}.
// Times are written in RFC 3339 (UTC), numerics as JSON numbers.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

type request struct {
	DSN     string   `json:"dsn"`
	Queries []string `json:"queries"`
	Args    [][]any  `json:"args"`
}

// argument turns a decoded JSON value into what a Go program would pass to pgx.
func argument(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		if t, ok := x["time"].(string); ok {
			if parsed, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return parsed
			}
		}
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			s, _ := item.(string)
			out = append(out, s)
		}
		return out
	default:
		return v
	}
}

type column struct {
	Name string `json:"name"`
	OID  uint32 `json:"oid"`
}

type result struct {
	Columns []column `json:"columns,omitempty"`
	Rows    [][]any  `json:"rows,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func value(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case pgtype.Numeric:
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case *big.Int:
		return x.String()
	case []byte:
		return string(x)
	default:
		return v
	}
}

func run(ctx context.Context, conn *pgx.Conn, sql string, args []any) result {
	converted := make([]any, 0, len(args))
	for _, a := range args {
		converted = append(converted, argument(a))
	}
	rows, err := conn.Query(ctx, sql, converted...)
	if err != nil {
		return result{Error: err.Error()}
	}
	defer rows.Close()
	var out result
	for _, f := range rows.FieldDescriptions() {
		out.Columns = append(out.Columns, column{Name: f.Name, OID: f.DataTypeOID})
	}
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			return result{Error: err.Error()}
		}
		row := make([]any, len(values))
		for i, v := range values {
			row[i] = value(v)
		}
		out.Rows = append(out.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return result{Error: err.Error()}
	}
	return out
}

func runAll(req request, mode pgx.QueryExecMode) ([]result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	config, err := pgx.ParseConfig(req.DSN)
	if err != nil {
		return nil, err
	}
	config.DefaultQueryExecMode = mode
	conn, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var out []result
	for i, q := range req.Queries {
		var args []any
		if i < len(req.Args) {
			args = req.Args[i]
		}
		out = append(out, run(ctx, conn, q, args))
	}
	return out, nil
}

func main() {
	var req request
	decoder := json.NewDecoder(os.Stdin)
	decoder.UseNumber()
	if err := decoder.Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "grafana-driver: the request on stdin is not JSON:", err)
		os.Exit(2)
	}
	answer := map[string][]result{}
	for name, mode := range map[string]pgx.QueryExecMode{
		"simple":   pgx.QueryExecModeSimpleProtocol,
		"extended": pgx.QueryExecModeCacheStatement,
	} {
		results, err := runAll(req, mode)
		if err != nil {
			fmt.Fprintf(os.Stderr, "grafana-driver: %s mode: %v\n", name, err)
			os.Exit(1)
		}
		answer[name] = results
	}
	if err := json.NewEncoder(os.Stdout).Encode(answer); err != nil {
		fmt.Fprintln(os.Stderr, "grafana-driver:", err)
		os.Exit(1)
	}
}
