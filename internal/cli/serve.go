package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/trailwatch/trailwatch/internal/app"
	"github.com/trailwatch/trailwatch/internal/ui"
)

const serveHelp = "serve [--config FILE] [--template FILE [--parameter KEY=VALUE]...] [--terraform FILE|DIR [--var NAME=VALUE]...] [--listen ADDR] [--data DIR] [--postgres URL] [--smtp URL --mail-from ADDR]"

// keyValues is a repeatable KEY=VALUE flag.
type keyValues map[string]string

func (kv keyValues) String() string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	return strings.Join(keys, ",")
}

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	kv[k] = v
	return nil
}

// runServe is `trailwatch serve`: the service the seeds describe.
func runServe(ctx context.Context, args []string, env *Env) (int, error) {
	fs := newFlagSet("serve", env, serveHelp)
	var configs, templates, tfFiles stringList
	params, apiKeys, users, tfVars := keyValues{}, keyValues{}, keyValues{}, keyValues{}
	fs.Var(&configs, "config", "native YAML configuration `FILE` (rules, receivers, routes); repeatable")
	fs.Var(&templates, "template", "CloudFormation template `FILE` to run as AWS would; repeatable")
	fs.Var(params, "parameter", "template parameter `KEY=VALUE` (also AWS::Region, AWS::AccountId, AWS::StackName); repeatable")
	fs.Var(&tfFiles, "terraform", "Terraform `FILE` or directory of .tf files (rules, topics, alarms, schedules as AWS resources); repeatable")
	fs.Var(tfVars, "var", "Terraform variable `NAME=VALUE` (also TF_VAR_NAME); repeatable")
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP listen `ADDR`")
	data := fs.String("data", "", "state `DIR` (SQLite inside); default $TRAILWATCH_DATA, $XDG_STATE_HOME/trailwatch or ~/.local/state/trailwatch")
	pgURL := fs.String("postgres", "", "keep the state in this PostgreSQL database `URL` (postgres://user:pass@host/db), shared by every node on it, instead of SQLite in --data; also $TRAILWATCH_POSTGRES_URL")
	smtp := fs.String("smtp", "", "SMTP server `URL`: smtp://user:pass@host:port (STARTTLS when offered) or smtps:// (implicit TLS); also $TRAILWATCH_SMTP_URL")
	mailFrom := fs.String("mail-from", "", "sender `ADDR` of email notifications")
	fs.Var(apiKeys, "ingest-api-key", "require this header on ingest, as an EventBridge API_KEY connection sends it: `NAME=VALUE`; repeatable; also $TRAILWATCH_INGEST_API_KEY")
	fs.Var(users, "ingest-user", "accept HTTP Basic `USER=PASSWORD` on ingest (an EventBridge BASIC connection); repeatable")
	adminToken := fs.String("admin-token", "", "bearer `TOKEN` for POST /alerts/{id}/ack (default: the ingest credentials) and the web UI's login; also $TRAILWATCH_ADMIN_TOKEN")
	uiUsers := fs.String("ui-users", "", "htpasswd `FILE` of the people who log in to the web UI with a password (name:bcrypt-hash lines, from htpasswd -B or trailwatch hash-password); also $TRAILWATCH_UI_USERS")
	insecure := fs.Bool("insecure-ingest", false, "allow ingest without authentication on a non-loopback address")
	publicURL := fs.String("public-url", "", "base `URL` of acknowledgement links in notifications (default http://ADDR)")
	var queues stringList
	fs.Var(&queues, "sqs-queue", "poll this SQS queue `URL` (EventBridge events; S3 notifications of CloudTrail log files, direct or via SNS); repeatable")
	var s3Sources stringList
	fs.Var(&s3Sources, "s3", "poll `s3://bucket/prefix` (CloudTrail layout) every minute for new log files, from a checkpoint per region folder (first run: the last hour); repeatable")
	var logGroups stringList
	fs.Var(&logGroups, "cloudwatch-logs", "poll this CloudWatch Logs `LOG_GROUP` of a trail (FilterLogEvents, checkpointed); repeatable")
	lookupRegions := fs.String("lookup-events", "", "poll the CloudTrail event history of these `REGIONS` (comma-separated, or all: every enabled region; LookupEvents, checkpointed): no trail needed")
	s3Role := fs.String("s3-role-arn", "", "IAM role `ARN` to assume for reading trail buckets (--s3, and the log files --sqs-queue notifies) in another account")
	awsRegion := fs.String("aws-region", "", "AWS `REGION` of the sources' clients (default: the SDK's: $AWS_REGION, profile)")
	endpointURL := fs.String("endpoint-url", "", "`URL` of an SQS/S3-compatible endpoint for the sources (default: AWS)")
	logLevel := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	lease := fs.Duration("outbox-lease", 0, "how long a delivery claimed by a process that died waits before it is sent again (default 5m)")
	maxAge := fs.Duration("outbox-max-age", 0, "how long a failing delivery is retried before it is dead-lettered (default 24h, as EventBridge)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if len(rest) > 0 {
		return ExitFailure, fmt.Errorf("unexpected argument %q", rest[0])
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return ExitFailure, fmt.Errorf("--log-level: %w", err)
	}
	o := app.Options{
		ConfigFiles:    configs,
		Templates:      templates,
		Params:         params,
		TerraformFiles: tfFiles,
		TerraformVars:  tfVars,
		Listen:         *listen,
		DataDir:        *data,
		Postgres:       *pgURL,
		MailFrom:       *mailFrom,
		IngestAPIKeys:  apiKeys,
		IngestUsers:    users,
		AdminToken:     *adminToken,
		InsecureIngest: *insecure,
		PublicURL:      *publicURL,
		SQSQueues:      queues,
		S3RoleARN:      *s3Role,
		LogGroups:      logGroups,
		LookupRegions:  splitList(*lookupRegions),
		S3Sources:      s3Sources,
		AWSRegion:      *awsRegion,
		AWSEndpoint:    *endpointURL,
		Lease:          *lease,
		MaxAge:         *maxAge,
		Stdout:         env.Stdout,
		Logger:         slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
	}
	if o.AdminToken == "" {
		o.AdminToken = os.Getenv("TRAILWATCH_ADMIN_TOKEN")
	}
	if o.Postgres == "" {
		o.Postgres = os.Getenv("TRAILWATCH_POSTGRES_URL")
	}
	if *uiUsers == "" {
		*uiUsers = os.Getenv("TRAILWATCH_UI_USERS")
	}
	if *uiUsers != "" {
		b, err := os.ReadFile(*uiUsers)
		if err != nil {
			return ExitFailure, fmt.Errorf("--ui-users: %w", err)
		}
		if o.UIUsers, err = ui.ParseUsers(*uiUsers, b); err != nil {
			return ExitFailure, fmt.Errorf("--ui-users: %w", err)
		}
		if len(o.UIUsers) == 0 {
			return ExitFailure, fmt.Errorf("--ui-users: %s names no user", *uiUsers)
		}
	}
	// Secrets may come from the environment, so that they need not stand
	// on a command line (ECS, Kubernetes, systemd EnvironmentFile).
	if len(apiKeys) == 0 {
		if v := os.Getenv("TRAILWATCH_INGEST_API_KEY"); v != "" {
			if err := apiKeys.Set(v); err != nil {
				return ExitFailure, fmt.Errorf("$TRAILWATCH_INGEST_API_KEY: %w", err)
			}
		}
	}
	if *smtp == "" {
		*smtp = os.Getenv("TRAILWATCH_SMTP_URL")
	}
	if *smtp != "" {
		u, err := url.Parse(*smtp)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return ExitFailure, fmt.Errorf("--smtp: want smtp://[user:pass@]host:port or smtps://..., got %s", redactURL(*smtp))
		}
		o.SMTP = u
	}
	a, err := app.New(ctx, o)
	if err != nil {
		return ExitFailure, err
	}
	defer a.Close()
	if err := a.Listen(); err != nil {
		return ExitFailure, err
	}
	fmt.Fprintf(env.Stderr, "trailwatch serve: listening on http://%s (%d rules, %d receivers)\n", a.Addr(), len(a.Config().Rules), len(a.Config().Receivers))
	fmt.Fprintf(env.Stderr, "trailwatch serve: web UI at http://%s/ (%s)\n", a.Addr(), a.UIAccess())
	if err := a.Run(ctx); err != nil {
		return ExitFailure, err
	}
	return ExitOK, nil
}

// redactURL hides a URL's password in messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
