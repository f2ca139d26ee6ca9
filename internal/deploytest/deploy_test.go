// Package deploytest checks the deployment files (Dockerfile, deploy/,
// docs/deploy.md) against the code they run, so that they cannot rot
// silently: the build path, serve's default port, serve's flags, and that
// the YAML and JSON parse.
package deploytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const root = "../.."

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serveFlags are the flags `trailwatch serve` defines, read from its source.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	src := read(t, "internal/cli/serve.go")
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`fs\.(?:String|Bool|Duration|Int|Var)\((?:[^,"]+, )?"([a-z0-9-]+)"`).FindAllStringSubmatch(src, -1) {
		flags[m[1]] = true
	}
	for _, want := range []string{"config", "listen", "data", "postgres", "sqs-queue", "ingest-api-key", "smtp"} {
		if !flags[want] {
			t.Fatalf("did not find serve's --%s in internal/cli/serve.go (found %v): update serveFlags", want, flags)
		}
	}
	return flags
}

// checkArgs checks that args (serve's command line) uses only serve's flags.
func checkArgs(t *testing.T, where string, args []string, flags map[string]bool) {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Errorf("%s: command %q does not start with serve", where, args)
		return
	}
	for _, a := range args[1:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !flags[name] {
				t.Errorf("%s: --%s is not a flag of trailwatch serve", where, name)
			}
		}
	}
}

// defaultPort is serve's default --listen port, as the README documents it
// and serve.go defines it.
func defaultPort(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile("`--listen ADDR` \\| HTTP address \\(default `[^`:]+:([0-9]+)`\\)").FindStringSubmatch(read(t, "README.md"))
	if m == nil {
		t.Fatal("README: serve's --listen default not found")
	}
	if !strings.Contains(read(t, "internal/cli/serve.go"), `fs.String("listen", "127.0.0.1:`+m[1]+`"`) {
		t.Fatalf("serve.go's --listen default is not the README's port %s", m[1])
	}
	return m[1]
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func TestDockerfile(t *testing.T) {
	flags := serveFlags(t)
	port := defaultPort(t)
	type stage struct {
		from  string
		lines []string
	}
	var stages []stage
	// Join continuation lines, drop comments.
	text := strings.ReplaceAll(read(t, "Dockerfile"), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if from, ok := strings.CutPrefix(line, "FROM "); ok {
			stages = append(stages, stage{from: from})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %q before the first FROM", line)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: want a build stage and a runtime stage, got %d stages", len(stages))
	}

	// The build stage: the module's Go version, a static build of the main package.
	build := stages[0]
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(read(t, "go.mod"))
	if goVersion == nil {
		t.Fatal("go.mod: no go directive")
	}
	if !strings.HasPrefix(build.from, "golang:"+goVersion[1]+" ") && build.from != "golang:"+goVersion[1] {
		t.Errorf("Dockerfile: build stage FROM %q, want golang:%s (go.mod)", build.from, goVersion[1])
	}
	var goBuild string
	for _, l := range build.lines {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			goBuild = l
		}
	}
	mainPkg := regexp.MustCompile(`\./cmd/[a-z0-9_/-]+`).FindString(goBuild)
	if goBuild == "" || mainPkg == "" {
		t.Fatalf("Dockerfile: no `go build ./cmd/...` in the build stage")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("Dockerfile: go build without %s: %s", want, goBuild)
		}
	}
	if mainPkg != "./cmd/trailwatch" {
		t.Errorf("Dockerfile builds %s, want ./cmd/trailwatch", mainPkg)
	}
	if !regexp.MustCompile(`(?m)^package main$`).MatchString(read(t, filepath.Join(mainPkg, "main.go"))) {
		t.Errorf("%s/main.go is not package main", mainPkg)
	}

	// The runtime stage: not root, the port, the entry point and command.
	final := stages[len(stages)-1]
	var user, expose, entrypoint, cmd string
	var volume bool
	for _, l := range final.lines {
		kw, rest, _ := strings.Cut(l, " ")
		switch kw {
		case "USER":
			user = rest
		case "EXPOSE":
			expose = rest
		case "ENTRYPOINT":
			entrypoint = rest
		case "CMD":
			cmd = rest
		case "VOLUME":
			volume = strings.Contains(rest, "/data")
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		if !strings.HasSuffix(final.from, ":nonroot") || u != "" {
			t.Errorf("Dockerfile: the final stage runs as root (USER %q, FROM %s)", user, final.from)
		}
	}
	if expose != port && expose != port+"/tcp" {
		t.Errorf("Dockerfile: EXPOSE %q, want serve's default port %s", expose, port)
	}
	if !volume {
		t.Error("Dockerfile: no VOLUME /data")
	}
	var ep, args []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || len(ep) != 1 || ep[0] != "trailwatch" {
		t.Errorf("Dockerfile: ENTRYPOINT %s, want [\"trailwatch\"]", entrypoint)
	}
	if err := json.Unmarshal([]byte(cmd), &args); err != nil {
		t.Fatalf("Dockerfile: CMD %s: %v", cmd, err)
	}
	checkArgs(t, "Dockerfile CMD", args, flags)
	if l := flagValue(args, "listen"); !strings.HasSuffix(l, ":"+port) {
		t.Errorf("Dockerfile: CMD listens on %q, want port %s", l, port)
	}
	if flagValue(args, "data") != "/data" {
		t.Errorf("Dockerfile: CMD --data %q, want /data", flagValue(args, "data"))
	}

	// The build context keeps what the build needs.
	for _, l := range strings.Split(read(t, ".dockerignore"), "\n") {
		l = strings.Trim(strings.TrimSpace(l), "/")
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal", "pattern", "rules", "filterpattern"} {
			if l == needed || l == "*" || l == "**" {
				t.Errorf(".dockerignore excludes %s, which the build needs", l)
			}
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	flags := serveFlags(t)
	unit := read(t, "deploy/systemd/trailwatch.service")
	keys := map[string][]string{}
	for _, line := range strings.Split(strings.ReplaceAll(unit, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("unit: bad line %q", line)
			continue
		}
		keys[k] = append(keys[k], v)
	}
	for k, v := range map[string]string{
		"StateDirectory":  "trailwatch",
		"EnvironmentFile": "/etc/trailwatch/env",
		"ProtectSystem":   "strict",
		"NoNewPrivileges": "yes",
		"Restart":         "on-failure",
		"DynamicUser":     "yes",
	} {
		if len(keys[k]) != 1 || keys[k][0] != v {
			t.Errorf("unit: %s=%q, want %q", k, keys[k], v)
		}
	}
	if len(keys["ExecStart"]) != 1 {
		t.Fatalf("unit: want one ExecStart, got %q", keys["ExecStart"])
	}
	args := strings.Fields(keys["ExecStart"][0])
	checkArgs(t, "unit ExecStart", args[1:], flags)
	if flagValue(args, "config") != "/etc/trailwatch/trailwatch.yaml" {
		t.Errorf("unit: --config %q", flagValue(args, "config"))
	}
	if flagValue(args, "data") != "/var/lib/trailwatch" {
		t.Errorf("unit: --data %q, want the StateDirectory /var/lib/trailwatch", flagValue(args, "data"))
	}
	// Every variable ExecStart expands is in env.example.
	env := read(t, "deploy/systemd/env.example")
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)\}`).FindAllStringSubmatch(keys["ExecStart"][0], -1) {
		if !regexp.MustCompile(`(?m)^` + m[1] + `=.`).MatchString(env) {
			t.Errorf("unit: ExecStart uses ${%s}, which env.example does not set", m[1])
		}
	}
}

func yamlDocs(t *testing.T, rel string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(read(t, rel))))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// get walks a decoded YAML/JSON value: string keys for maps, ints for lists.
func get(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			l, _ := v.([]any)
			if p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestKubernetes(t *testing.T) {
	flags := serveFlags(t)
	port := defaultPort(t)
	kinds := map[string]map[string]any{}
	for _, f := range []string{"trailwatch.yaml", "secret.example.yaml", "configmap.yaml"} {
		for _, d := range yamlDocs(t, "deploy/kubernetes/"+f) {
			kind, _ := d["kind"].(string)
			if kind == "" || d["apiVersion"] == nil {
				t.Errorf("%s: a document without kind or apiVersion", f)
			}
			kinds[kind] = d
		}
	}
	for _, k := range []string{"Deployment", "Service", "Secret", "ConfigMap"} {
		if kinds[k] == nil {
			t.Fatalf("deploy/kubernetes: no %s", k)
		}
	}
	dep := kinds["Deployment"]
	if r := get(dep, "spec", "replicas"); r != 3 {
		t.Errorf("Deployment: replicas %v, want 3", r)
	}
	c := get(dep, "spec", "template", "spec", "containers", 0)
	args := strs(get(c, "args"))
	checkArgs(t, "Deployment args", args, flags)
	if flagValue(args, "sqs-queue") == "" {
		t.Error("Deployment: no --sqs-queue")
	}
	if !strings.HasSuffix(flagValue(args, "listen"), ":"+port) || get(c, "ports", 0, "containerPort") != mustAtoi(port) {
		t.Errorf("Deployment: listen %q / containerPort %v, want port %s", flagValue(args, "listen"), get(c, "ports", 0, "containerPort"), port)
	}
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		if p := get(c, probe, "httpGet", "path"); p != "/healthz" {
			t.Errorf("Deployment: %s path %v, want /healthz", probe, p)
		}
	}
	// Every secret key the Deployment reads is in the Secret template.
	secret := kinds["Secret"]
	secretKeys := map[string]bool{}
	for _, field := range []string{"data", "stringData"} {
		m, _ := secret[field].(map[string]any)
		for k := range m {
			secretKeys[k] = true
		}
	}
	env := map[string]bool{}
	for _, e := range get(c, "env").([]any) {
		env[get(e, "name").(string)] = true
		if k, ok := get(e, "valueFrom", "secretKeyRef", "key").(string); ok && !secretKeys[k] {
			t.Errorf("Deployment: env %v reads secret key %s, not in secret.example.yaml", get(e, "name"), k)
		}
	}
	if !env["TRAILWATCH_POSTGRES_URL"] {
		t.Error("Deployment: no TRAILWATCH_POSTGRES_URL")
	}
	for _, a := range args {
		for _, m := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(a, -1) {
			if !env[m[1]] {
				t.Errorf("Deployment: args use $(%s), not in env", m[1])
			}
		}
	}
	// The ack-link key is shared through the database: a mounted file
	// would override it on each node, and go stale.
	if secretKeys["ack.key"] {
		t.Error("Secret: ack.key (the nodes share the key through the database)")
	}
	if sel := get(kinds["Service"], "spec", "selector", "app.kubernetes.io/name"); sel != get(dep, "spec", "template", "metadata", "labels", "app.kubernetes.io/name") {
		t.Errorf("Service selector %v does not match the pods", sel)
	}
}

func mustAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func readJSON(t *testing.T, rel string) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(read(t, rel)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return v
}

func TestECS(t *testing.T) {
	flags := serveFlags(t)
	port := defaultPort(t)
	td := readJSON(t, "deploy/ecs/task-definition.json")
	if c := strs(get(td, "requiresCompatibilities")); len(c) != 1 || c[0] != "FARGATE" {
		t.Errorf("task definition: requiresCompatibilities %v", c)
	}
	var main map[string]any
	for _, c := range get(td, "containerDefinitions").([]any) {
		if get(c, "name") == "trailwatch" {
			main = c.(map[string]any)
		}
	}
	if main == nil {
		t.Fatal("task definition: no trailwatch container")
	}
	args := strs(main["command"])
	checkArgs(t, "task definition command", args, flags)
	if flagValue(args, "sqs-queue") == "" {
		t.Error("task definition: no --sqs-queue")
	}
	if p := get(main, "portMappings", 0, "containerPort"); p != json.Number(port) || !strings.HasSuffix(flagValue(args, "listen"), ":"+port) {
		t.Errorf("task definition: containerPort %v, --listen %q, want port %s", p, flagValue(args, "listen"), port)
	}
	var secrets []string
	for _, s := range get(main, "secrets").([]any) {
		secrets = append(secrets, get(s, "name").(string))
	}
	if !strings.Contains(strings.Join(secrets, ","), "TRAILWATCH_POSTGRES_URL") {
		t.Errorf("task definition: secrets %v, want TRAILWATCH_POSTGRES_URL", secrets)
	}
	if u, _ := main["user"].(string); u == "" || u == "0" || strings.HasPrefix(u, "root") {
		t.Errorf("task definition: user %q", u)
	}

	pol := readJSON(t, "deploy/ecs/task-role-policy.json")
	actions := map[string]bool{}
	for _, st := range get(pol, "Statement").([]any) {
		for _, a := range strs(get(st, "Action")) {
			actions[a] = true
		}
	}
	for _, want := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "s3:GetObject", "s3:ListBucket", "logs:FilterLogEvents", "cloudtrail:LookupEvents", "sns:Publish"} {
		if !actions[want] {
			t.Errorf("task role policy: no %s", want)
		}
	}
	readJSON(t, "deploy/ecs/execution-role-policy.json")
}

func TestGuide(t *testing.T) {
	guide := read(t, "docs/deploy.md")
	for _, m := range regexp.MustCompile(`\]\(\.\./([^)#]+)\)`).FindAllStringSubmatch(guide, -1) {
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Errorf("docs/deploy.md links to %s: %v", m[1], err)
		}
	}
	if !strings.Contains(read(t, "README.md"), "(docs/deploy.md)") {
		t.Error("README does not link docs/deploy.md")
	}
}
