// Stand-in for prometheuscommunity/pgbouncer-exporter:v0.12.1, built only when that image cannot
// be pulled (test/docker/images/build.sh). Our own code, written from reading upstream's
// pgbouncer_exporter.go and collector.go at the tag v0.12.1 (flags, queries, metric names and
// labels); docs/README-infra.md ("Stand-in images") lists every difference from the real image.
//
// Same flag parser (kingpin v2.4.0, so `@file` argument files expand exactly as upstream's) and
// same PostgreSQL driver (lib/pq, simple-query protocol, which is all pgBouncer's console speaks).
// Every scrape opens a connection, checks it with SHOW STATS, then runs SHOW VERSION, LISTS,
// CONFIG, CLIENTS, DATABASES, STATS_TOTALS and POOLS and serves what they return in the
// Prometheus text format; pgbouncer_up is 0 when any of them failed.
package main

import (
	"database/sql"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/kingpin/v2"
	"github.com/lib/pq"
)

const namespace = "pgbouncer"

type kind int

const (
	label kind = iota
	gauge
	counter
)

type column struct {
	kind   kind
	metric string
	factor float64
}

// The SHOW <namespace> columns upstream maps (collector.go metricMaps at v0.12.1): labels, and
// each value column to <namespace>_<ns>_<metric>. Columns not listed are ignored.
var namespaces = map[string]map[string]column{
	"databases": {
		"name": {label, "", 1}, "host": {label, "", 1}, "port": {label, "", 1}, "database": {label, "", 1},
		"force_user": {label, "", 1}, "pool_mode": {label, "", 1},
		"pool_size": {gauge, "pool_size", 1}, "reserve_pool": {gauge, "reserve_pool", 1}, "reserve_pool_size": {gauge, "reserve_pool", 1},
		"max_connections": {gauge, "max_connections", 1}, "current_connections": {gauge, "current_connections", 1},
		"paused": {gauge, "paused", 1}, "disabled": {gauge, "disabled", 1},
	},
	"stats_totals": {
		"database":                {label, "", 1},
		"query_count":             {counter, "queries_pooled_total", 1},
		"query_time":              {counter, "queries_duration_seconds_total", 1e-6},
		"bytes_received":          {counter, "received_bytes_total", 1},
		"requests":                {counter, "queries_total", 1},
		"bytes_sent":              {counter, "sent_bytes_total", 1},
		"wait_time":               {counter, "client_wait_seconds_total", 1e-6},
		"xact_count":              {counter, "sql_transactions_pooled_total", 1},
		"xact_time":               {counter, "server_in_transaction_seconds_total", 1e-6},
		"client_parse_count":      {counter, "client_parses_total", 1},
		"server_parse_count":      {counter, "server_parses_total", 1},
		"bind_count":              {counter, "binds_total", 1},
		"server_assignment_count": {counter, "server_assignments_total", 1},
	},
	"pools": {
		"database": {label, "", 1}, "user": {label, "", 1},
		"cl_active":             {gauge, "client_active_connections", 1},
		"cl_active_cancel_req":  {gauge, "client_active_cancel_connections", 1},
		"cl_waiting":            {gauge, "client_waiting_connections", 1},
		"cl_waiting_cancel_req": {gauge, "client_waiting_cancel_connections", 1},
		"sv_active":             {gauge, "server_active_connections", 1},
		"sv_active_cancel":      {gauge, "server_active_cancel_connections", 1},
		"sv_being_canceled":     {gauge, "server_being_canceled_connections", 1},
		"sv_idle":               {gauge, "server_idle_connections", 1},
		"sv_used":               {gauge, "server_used_connections", 1},
		"sv_tested":             {gauge, "server_testing_connections", 1},
		"sv_login":              {gauge, "server_login_connections", 1},
		"maxwait":               {gauge, "client_maxwait_seconds", 1},
	},
}

// SHOW LISTS rows and SHOW CONFIG keys upstream serves, by the metric name it gives them.
var lists = map[string]string{
	"databases": "databases", "users": "users", "pools": "pools", "free_clients": "free_clients",
	"used_clients": "used_clients", "login_clients": "login_clients", "free_servers": "free_servers",
	"used_servers": "used_servers", "dns_names": "cached_dns_names", "dns_zones": "cached_dns_zones",
	"dns_queries": "in_flight_dns_queries",
}
var configs = map[string]string{"max_client_conn": "config_max_client_connections", "max_user_connections": "config_max_user_connections"}

type series struct {
	labels map[string]string
	value  float64
}

type family struct {
	typ    string
	series []series
}

type scrape struct {
	families map[string]*family
	dup      error
}

func (s *scrape) add(name string, k kind, labels map[string]string, v float64) {
	f := s.families[name]
	if f == nil {
		f = &family{typ: "gauge"}
		if k == counter {
			f.typ = "counter"
		}
		s.families[name] = f
	}
	for _, old := range f.series {
		if renderLabels(old.labels) == renderLabels(labels) && s.dup == nil {
			// client_golang's Gather refuses a duplicate series; promhttp then answers 500.
			s.dup = fmt.Errorf("collected metric %s%s was collected before with the same name and label values", name, renderLabels(labels))
		}
	}
	f.series = append(f.series, series{labels, v})
}

// toFloat follows what upstream accepts as a value (collector.go dbToFloat64): numbers, numeric
// text, times as Unix seconds; NULL is NaN.
func toFloat(v interface{}, factor float64) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t) * factor, true
	case float64:
		return t * factor, true
	case time.Time:
		return float64(t.Unix()), true
	case []byte:
		f, err := strconv.ParseFloat(string(t), 64)
		return f * factor, err == nil
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f * factor, err == nil
	case nil:
		return math.NaN(), true
	}
	return math.NaN(), false
}

func toLabel(v interface{}) string {
	var s string
	switch t := v.(type) {
	case int64:
		s = strconv.FormatInt(t, 10)
	case float64:
		s = fmt.Sprintf("%f", t)
	case string:
		s = t
	case nil:
		s = ""
	default:
		return "<invalid>"
	}
	if !utf8.ValidString(s) {
		return "<invalid>"
	}
	return s
}

func rowsOf(db *sql.DB, query string) ([]string, [][]interface{}, error) {
	rows, err := db.Query(query)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]interface{}
	for rows.Next() {
		vals := make([]interface{}, len(cols))
		ptrs := make([]interface{}, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}

func index(cols []string) map[string]int {
	m := make(map[string]int, len(cols))
	for i, c := range cols {
		m[c] = i
	}
	return m
}

func collect(conn *pq.Connector) *scrape {
	s := &scrape{families: map[string]*family{}}
	up := 1.0
	defer func() { s.add(namespace+"_up", gauge, map[string]string{}, up) }()
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, _, err := rowsOf(db, "SHOW STATS"); err != nil {
		logf("warn", "error setting up DB connection", err)
		up = 0
		return s
	}
	fail := func(what string, err error) {
		logf("warn", "error getting "+what, err)
		up = 0
	}
	if cols, rows, err := rowsOf(db, "SHOW VERSION;"); err != nil || len(cols) != 1 || cols[0] != "version" {
		if err == nil {
			err = fmt.Errorf("show version didn't return version column")
		}
		fail("version", err)
	} else {
		for _, r := range rows {
			s.add(namespace+"_version_info", gauge, map[string]string{"version": toLabel(r[0])}, 1)
		}
	}
	if cols, rows, err := rowsOf(db, "SHOW LISTS;"); err != nil || len(cols) != 2 {
		fail("SHOW LISTS", err)
	} else {
		for _, r := range rows {
			v, ok := toFloat(r[1], 1)
			if name, known := lists[toLabel(r[0])]; known && ok {
				s.add(namespace+"_"+name, gauge, map[string]string{}, v)
			}
		}
	}
	if cols, rows, err := rowsOf(db, "SHOW CONFIG;"); err != nil || (len(cols) != 3 && len(cols) != 4) {
		fail("SHOW CONFIG", err)
	} else {
		for _, r := range rows {
			if name, known := configs[toLabel(r[0])]; known {
				if v, ok := toFloat(r[1], 1); ok {
					s.add(namespace+"_"+name, gauge, map[string]string{}, v)
				}
			}
		}
	}
	if cols, rows, err := rowsOf(db, "SHOW CLIENTS;"); err != nil {
		fail("SHOW CLIENTS", err)
	} else {
		idx := index(cols)
		counts := map[string]float64{}
		keys := map[string]map[string]string{}
		for _, r := range rows {
			l := map[string]string{"database": toLabel(r[idx["database"]]), "user": toLabel(r[idx["user"]]), "state": toLabel(r[idx["state"]]), "application_name": ""}
			if i, ok := idx["application_name"]; ok {
				l["application_name"] = toLabel(r[i])
			}
			k := renderLabels(l)
			counts[k]++
			keys[k] = l
		}
		for k, n := range counts {
			s.add(namespace+"_client_connections", gauge, keys[k], n)
		}
	}
	failed := 0
	for ns, mapping := range namespaces {
		cols, rows, err := rowsOf(db, "SHOW "+ns+";")
		if err != nil {
			logf("info", "namespace disappeared", err)
			failed++
			continue
		}
		for _, r := range rows {
			labels := map[string]string{}
			for c, m := range mapping {
				if m.kind == label {
					labels[c] = ""
				}
			}
			for i, c := range cols {
				if m, ok := mapping[c]; ok && m.kind == label {
					labels[c] = toLabel(r[i])
				}
			}
			for i, c := range cols {
				m, ok := mapping[c]
				if !ok || m.kind == label {
					continue
				}
				if v, ok := toFloat(r[i], m.factor); ok {
					s.add(fmt.Sprintf("%s_%s_%s", namespace, ns, m.metric), m.kind, labels, v)
				}
			}
		}
	}
	if failed > 0 {
		up = 0
	}
	return s
}

func escape(v string, quote bool) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, "\n", `\n`)
	if quote {
		v = strings.ReplaceAll(v, `"`, `\"`)
	}
	return v
}

func renderLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf(`%s="%s"`, n, escape(l[n], true))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (s *scrape) text() string {
	names := make([]string, 0, len(s.families))
	for n := range s.families {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		f := s.families[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", n, escape("pgbouncer_exporter v0.12.1 metric (armp stand-in)", false), n, f.typ)
		sort.SliceStable(f.series, func(i, j int) bool { return renderLabels(f.series[i].labels) < renderLabels(f.series[j].labels) })
		for _, x := range f.series {
			fmt.Fprintf(&b, "%s%s %s\n", n, renderLabels(x.labels), formatValue(x.value))
		}
	}
	return b.String()
}

var logLevel = "info"

func logf(level, msg string, err error) {
	order := map[string]int{"debug": 0, "info": 1, "warn": 2, "error": 3}
	if order[level] < order[logLevel] {
		return
	}
	line := fmt.Sprintf("time=%s level=%s msg=%q", time.Now().UTC().Format(time.RFC3339), level, msg)
	if err != nil {
		line += fmt.Sprintf(" err=%q", err.Error())
	}
	fmt.Fprintln(os.Stderr, line)
}

func die(msg string) {
	logf("error", msg, nil)
	os.Exit(1)
}

func main() {
	var (
		connectionString = kingpin.Flag("pgBouncer.connectionString", "Connection string for accessing pgBouncer.").Default("postgres://postgres:@localhost:6543/pgbouncer?sslmode=disable").Envar("PGBOUNCER_EXPORTER_CONNECTION_STRING").String()
		metricsPath      = kingpin.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		pidFile          = kingpin.Flag("pgBouncer.pid-file", "Path to PgBouncer pid file (not supported by this stand-in).").Default("").String()
		systemdSocket    = kingpin.Flag("web.systemd-socket", "Use systemd socket activation (not supported by this stand-in).").Bool()
		listen           = kingpin.Flag("web.listen-address", "Addresses on which to expose metrics. Repeatable.").Default(":9127").Strings()
		webConfig        = kingpin.Flag("web.config.file", "TLS/auth configuration file (not supported by this stand-in).").Default("").String()
		level            = kingpin.Flag("log.level", "Only log messages with the given severity or above.").Default("info").Enum("debug", "info", "warn", "error")
		_                = kingpin.Flag("log.format", "Output format of log messages (this stand-in writes logfmt only).").Default("logfmt").Enum("logfmt", "json")
	)
	kingpin.Version("pgbouncer_exporter 0.12.1 (armp stand-in)")
	kingpin.HelpFlag.Short('h')
	kingpin.Parse()
	logLevel = *level
	if *pidFile != "" || *systemdSocket || *webConfig != "" {
		die("--pgBouncer.pid-file, --web.systemd-socket and --web.config.file are not supported by this stand-in")
	}
	logf("info", "Starting pgbouncer_exporter (armp stand-in of v0.12.1)", nil)
	conn, err := pq.NewConnector(*connectionString)
	if err != nil {
		logf("error", "failed to create connector", err)
		die("Failed to create exporter")
	}
	http.HandleFunc(*metricsPath, func(w http.ResponseWriter, _ *http.Request) {
		s := collect(conn)
		if s.dup != nil {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+s.dup.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(s.text()))
	})
	if *metricsPath != "/" && *metricsPath != "" {
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			fmt.Fprintf(w, "<html><head><title>PgBouncer Exporter</title></head><body><h1>PgBouncer Exporter</h1><p><a href=%q>Metrics</a></p></body></html>\n", *metricsPath)
		})
	}
	errs := make(chan error, len(*listen))
	for _, addr := range *listen {
		addr := addr
		logf("info", "Listening on "+addr, nil)
		go func() { errs <- (&http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe() }()
	}
	logf("error", "Error starting server", <-errs)
	os.Exit(1)
}
