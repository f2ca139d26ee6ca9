// Package app wires Trailwatch's parts into the running service: config ->
// rules and routes -> HTTP ingest -> store -> outbox -> receivers. It is
// what `trailwatch serve` runs, and what integration tests embed.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/config/terraform"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/leader"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/apidest"
	"github.com/trailwatch/trailwatch/internal/notify/email"
	"github.com/trailwatch/trailwatch/internal/notify/slack"
	"github.com/trailwatch/trailwatch/internal/notify/sns"
	"github.com/trailwatch/trailwatch/internal/notify/stdout"
	"github.com/trailwatch/trailwatch/internal/notify/webhook"
	"github.com/trailwatch/trailwatch/internal/outbox"
	"github.com/trailwatch/trailwatch/internal/route"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/source/cwlsrc"
	"github.com/trailwatch/trailwatch/internal/source/lookupsrc"
	"github.com/trailwatch/trailwatch/internal/source/s3poll"
	"github.com/trailwatch/trailwatch/internal/source/s3src"
	"github.com/trailwatch/trailwatch/internal/source/sqssrc"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/ui"
	"github.com/trailwatch/trailwatch/internal/web"
)

// Options configure an App: the flags of `trailwatch serve`.
type Options struct {
	ConfigFiles []string          // --config
	Templates   []string          // --template
	Params      map[string]string // --parameter KEY=VALUE
	Env         func(string) (string, bool)

	// TerraformFiles are .tf files or directories (--terraform), with
	// their variables (--var NAME=VALUE; TF_VAR_NAME from Env).
	TerraformFiles []string
	TerraformVars  map[string]string

	Listen  string // --listen; default 127.0.0.1:8080
	DataDir string // --data
	// Postgres is a PostgreSQL URL (--postgres): the store is that
	// database, shared with the other nodes on it (the acknowledgement
	// links' key too, unless DataDir holds an ack.key), instead of SQLite
	// in DataDir.
	Postgres string

	SMTP     *url.URL // --smtp
	MailFrom string   // --mail-from
	// SMTPTLS overrides the TLS settings for the SMTP server (tests).
	SMTPTLS *email.Server

	IngestAPIKeys  map[string]string // --ingest-api-key NAME=VALUE
	IngestUsers    map[string]string // --ingest-user USER=PASSWORD
	AdminToken     string            // --admin-token
	InsecureIngest bool              // --insecure-ingest
	// UIUsers may log in to the web UI with a password: name -> bcrypt
	// hash (--ui-users FILE, an htpasswd file).
	UIUsers map[string][]byte
	// PublicURL is the base of acknowledgement links (default
	// http://<listen address>).
	PublicURL string

	// SNS settings for verifying SNS HTTP(S) deliveries (tests set a
	// certificate and host pattern).
	SNS web.SNSOptions

	Stdout     io.Writer
	Logger     *slog.Logger
	Clock      clock.Clock
	HTTPClient *http.Client

	// Outbox tuning (zero: the outbox's defaults).
	MinBackoff, MaxBackoff, MaxAge time.Duration
	PollInterval                   time.Duration
	// SQSQueues are the URLs of SQS queues serve polls: EventBridge events
	// (a rule with an SQS target) and S3 notifications of new CloudTrail
	// log files, direct or through SNS.
	SQSQueues []string
	// S3Sources are s3://bucket/prefix URLs serve polls for new CloudTrail
	// log files (s3poll: a checkpoint per region folder in the store).
	S3Sources []string
	// S3RoleARN is a role to assume for reading the trail buckets of
	// S3Sources and of the S3 notifications SQSQueues carry.
	S3RoleARN string
	// AWSRegion and AWSEndpoint configure the AWS SDK clients of sources
	// ("": the SDK's defaults; an endpoint for SQS/S3-compatible services).
	AWSRegion, AWSEndpoint string
	// LogGroups are CloudWatch Logs log groups of a trail serve polls
	// (FilterLogEvents, from a checkpoint in the store).
	LogGroups []string
	// LookupRegions are the regions whose CloudTrail event history serve
	// polls (LookupEvents, a checkpoint per region): no trail needed. "all"
	// is every region the account has enabled (Account Management's
	// ListRegions).
	LookupRegions []string
	// AccountClient replaces the Account Management client (tests).
	AccountClient account.ListRegionsAPIClient
	// LogsClient and TrailClient replace the clients built from the AWS
	// configuration (tests).
	LogsClient  cwlsrc.API
	TrailClient func(region string) lookupsrc.API
	// SQSClient and S3Client replace the clients built from the AWS
	// configuration (tests).
	SQSClient sqssrc.SQSAPI
	S3Client  sqssrc.S3API

	// Lease is how long a delivery claimed by a process that died stays
	// claimed before another (or the restarted one) takes it over.
	Lease time.Duration
}

// App is a configured Trailwatch service.
type App struct {
	o        Options
	log      *slog.Logger
	clock    clock.Clock
	cfg      *config.Config
	set      *rule.Set
	router   *route.Router
	store    store.Store
	outbox   *outbox.Outbox
	web      *web.Server
	registry *prometheus.Registry
	ln       net.Listener
	srv      *http.Server
	ackKey   []byte

	renderFailures prometheus.Counter

	sources []*sqssrc.Source
	pollers []*s3poll.Poller
	logSrcs []interface{ Run(context.Context) error }

	watch  *watch
	muteMu sync.Mutex
	mute   muted

	lease leader.Lease
	// shared: other nodes write the store, so a new leader first reads
	// back the alarms' states (see watch.takeOver).
	shared  bool
	leading atomic.Bool // leading, alarms taken over
}

// New loads and validates everything (the whole configuration, every
// receiver) and opens the store; nothing runs until Run.
func New(ctx context.Context, o Options) (*App, error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = newHTTPClient()
	}
	if o.DataDir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return nil, err
		}
		o.DataDir = d
	}
	a := &App{o: o, log: o.Logger, clock: o.Clock, registry: prometheus.NewRegistry()}
	if err := a.checkIngestAuth(); err != nil {
		return nil, err
	}

	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	for _, s := range cfg.Skipped {
		a.log.Warn("not run", "what", s)
	}
	if a.set, err = rule.NewSet(cfg.Rules); err != nil {
		return nil, err
	}
	if a.router, err = route.New(cfg); err != nil {
		return nil, err
	}
	if a.watch, err = newWatch(cfg, o.Params, o.Clock.Now()); err != nil {
		return nil, err
	}
	notifiers, err := a.notifiers(ctx)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if o.Postgres == "" && cfg.Postgres != "" {
		o.Postgres = cfg.Postgres.Reveal() // the configuration's, unless --postgres
	}
	if a.store, err = openStore(ctx, o); err != nil {
		return nil, err
	}
	if err := a.watch.restore(ctx, a.store, o.Clock.Now()); err != nil {
		a.store.Close()
		return nil, fmt.Errorf("restore alarms: %w", err)
	}
	a.lease = leader.Always()
	if pg, ok := a.store.(*postgres.Store); ok {
		a.lease = leader.Postgres(pg.Pool(), leaderLock, leader.Options{Clock: o.Clock, Logger: o.Logger.With("part", "leader")})
		a.shared = true
	}
	if a.ackKey, err = ackKey(ctx, filepath.Join(o.DataDir, "ack.key"), a.store, a.shared); err != nil {
		a.store.Close()
		return nil, err
	}
	a.renderFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_route_render_failures_total",
		Help: "Deliveries not queued because their body did not render (as EventBridge, an input template that renders invalid JSON).",
	})
	a.registry.MustRegister(a.renderFailures)

	a.outbox, err = outbox.New(outbox.Options{
		Store:        a.store,
		Notifiers:    notifiers,
		Clock:        o.Clock,
		Logger:       o.Logger.With("part", "outbox"),
		MaxAge:       o.MaxAge,
		MinBackoff:   o.MinBackoff,
		MaxBackoff:   o.MaxBackoff,
		PollInterval: o.PollInterval,
		Lease:        o.Lease,
		AckURL:       a.ackURL,
		Metrics:      a.registry,
	})
	if err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.newS3Pollers(ctx); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.newLogSources(ctx); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.newSources(ctx); err != nil {
		a.store.Close()
		return nil, err
	}
	uiSrv, err := ui.New(ui.Options{
		Store:        a.store,
		Rules:        cfg.Rules,
		AdminToken:   o.AdminToken,
		Users:        o.UIUsers,
		SessionKey:   sessionKey(a.ackKey),
		SecureCookie: strings.HasPrefix(strings.ToLower(o.PublicURL), "https://"),
		Open:         a.uiOpen(),
		Now:          o.Clock.Now,
		Logger:       o.Logger.With("part", "ui"),

		Alarms:          cfg.Alarms,
		Schedules:       cfg.Schedules,
		CompositeAlarms: cfg.CompositeAlarms,
		Muted:           a.ruleMuted,
		DisabledRules:   ui.DisabledRules(cfg.Skipped),
	})
	if err != nil {
		a.store.Close()
		return nil, err
	}
	a.web, err = web.New(web.Options{
		Sink:       web.SinkFunc(a.Ingest),
		Acker:      web.AckerFunc(a.ack),
		Logger:     o.Logger.With("part", "web"),
		Now:        o.Clock.Now,
		Registry:   a.registry,
		APIKeys:    o.IngestAPIKeys,
		BasicUsers: o.IngestUsers,
		AdminToken: o.AdminToken,
		AckKey:     a.ackKey,
		SNS:        o.SNS,
		UI:         uiSrv.Handler(),
		// Nothing authenticates ingest (serve then listens on loopback
		// only): answer loopback names only.
		LoopbackOnly: len(o.IngestAPIKeys) == 0 && len(o.IngestUsers) == 0 && !o.InsecureIngest,
		PublicHost:   publicHost(o.PublicURL),
	})
	if err != nil {
		a.store.Close()
		return nil, err
	}
	return a, nil
}

// openStore opens the PostgreSQL store when o.Postgres is set, else the
// SQLite one in the data directory.
func openStore(ctx context.Context, o Options) (store.Store, error) {
	if o.Postgres != "" {
		s, err := postgres.Open(ctx, o.Postgres, postgres.Options{Clock: o.Clock, Logger: o.Logger.With("part", "store")})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, filepath.Join(o.DataDir, "trailwatch.db"), sqlite.Options{Clock: o.Clock, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// newHTTPClient is the client receivers share: connections to a receiver
// are kept alive and reused (at thousands of alerts a second, opening one
// per delivery costs more than the delivery).
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// DefaultDataDir is where serve keeps its state without --data:
// $TRAILWATCH_DATA, else $XDG_STATE_HOME/trailwatch, else
// ~/.local/state/trailwatch.
func DefaultDataDir() (string, error) {
	if d := os.Getenv("TRAILWATCH_DATA"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "trailwatch"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data dir: %w (set --data)", err)
	}
	return filepath.Join(home, ".local", "state", "trailwatch"), nil
}

// ruleMuted reports whether a mute schedule mutes the rule now, for the
// web UI's rules pages.
func (a *App) ruleMuted(name string) bool { return a.mutedNow().rules[name] }

// UIAccess says who may use the web UI, for the start-up message.
func (a *App) UIAccess() string {
	switch {
	case a.uiOpen():
		return "open: listening on loopback with no credentials configured"
	case a.o.AdminToken != "" && len(a.o.UIUsers) > 0:
		return fmt.Sprintf("login with the admin token or the password of one of %d users", len(a.o.UIUsers))
	case a.o.AdminToken != "":
		return "login with the admin token"
	case len(a.o.UIUsers) > 0:
		return fmt.Sprintf("login with the password of one of %d users", len(a.o.UIUsers))
	}
	return "nobody can log in: give --admin-token or --ui-users"
}

// uiOpen reports whether the web UI may go without a login: no ingest
// credentials, no admin token and no UI users configured, and listening on loopback.
func (a *App) uiOpen() bool {
	if len(a.o.IngestAPIKeys) > 0 || len(a.o.IngestUsers) > 0 || a.o.AdminToken != "" || len(a.o.UIUsers) > 0 || a.o.InsecureIngest {
		return false
	}
	host, _, err := net.SplitHostPort(a.o.Listen)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// checkIngestAuth refuses an unauthenticated ingest endpoint off loopback.
func (a *App) checkIngestAuth() error {
	if len(a.o.IngestAPIKeys) > 0 || len(a.o.IngestUsers) > 0 || a.o.InsecureIngest {
		return nil
	}
	host, _, err := net.SplitHostPort(a.o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", a.o.Listen, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %s is not a loopback address and ingest has no authentication: give --ingest-api-key NAME=VALUE or --ingest-user USER=PASSWORD, or --insecure-ingest", a.o.Listen)
}

// loadConfig reads the configuration; with none, the built-in packs print
// their alerts on stdout.
func (a *App) loadConfig() (*config.Config, error) {
	if len(a.o.ConfigFiles) == 0 && len(a.o.Templates) == 0 && len(a.o.TerraformFiles) == 0 {
		rules, err := rule.Builtin()
		if err != nil {
			return nil, err
		}
		return &config.Config{
			Rules:     rules,
			Receivers: []*config.Receiver{{Name: "stdout", Stdout: &config.StdoutConfig{}}},
		}, nil
	}
	var external []*config.Resources
	if len(a.o.TerraformFiles) > 0 {
		rs, err := terraform.Read(a.o.TerraformFiles, a.o.TerraformVars, a.o.Env)
		if err != nil {
			return nil, err
		}
		external = append(external, rs)
	}
	return config.LoadWith(a.o.ConfigFiles, a.o.Templates, external, a.o.Params, a.o.Env)
}

// notifiers builds a Notifier per receiver; a receiver that cannot work (an
// email receiver without --smtp) is an error at start, not at first alert.
func (a *App) notifiers(ctx context.Context) (map[string]notify.Notifier, error) {
	no := notify.Options{
		HTTPClient: a.o.HTTPClient,
		Clock:      a.clock.Now,
		Logger:     a.log.With("part", "notify"),
	}
	out := make(map[string]notify.Notifier, len(a.cfg.Receivers))
	var errs []error
	for _, r := range a.cfg.Receivers {
		var n notify.Notifier
		var err error
		o := no
		o.Logger = no.Logger.With("receiver", r.Name)
		switch {
		case r.Slack != nil:
			n, err = slack.New(r.Slack, o)
		case r.Email != nil:
			if a.o.SMTP == nil {
				err = errors.New("an email receiver needs --smtp smtp://host:port")
				break
			}
			srv := email.Server{URL: a.o.SMTP, From: a.o.MailFrom}
			if a.o.SMTPTLS != nil {
				srv.TLSConfig = a.o.SMTPTLS.TLSConfig
			}
			n, err = email.New(r.Email, srv, o)
		case r.Webhook != nil:
			n, err = webhook.New(r.Webhook, o)
		case r.SNS != nil:
			n, err = sns.New(ctx, r.SNS, o)
		case r.APIDestination != nil:
			n, err = apidest.New(r.APIDestination, o)
		case r.Stdout != nil:
			n, err = stdout.New(r.Stdout, a.o.Stdout, o)
		default:
			err = errors.New("no receiver type")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("receiver %s: %w", r.Name, err))
			continue
		}
		out[r.Name] = n
	}
	return out, errors.Join(errs...)
}

// Ingest matches events against the rules, routes their alerts and records
// everything in one transaction: when it returns nil, the alerts are
// durable and the source may be acknowledged.
func (a *App) Ingest(ctx context.Context, evs []*event.Event) (web.IngestResult, error) {
	now := a.clock.Now()
	mute := a.mutedNow()
	batch := make([]store.Seen, 0, len(evs))
	var matched []*rule.Rule
	for _, ev := range evs {
		var err error
		matched, err = a.set.Match(ev, matched[:0])
		if err != nil {
			return web.IngestResult{}, fmt.Errorf("event %s: %w", ev.Key(), err)
		}
		seen := store.Seen{EventKey: ev.Key(), EventTime: ev.Time}
		seen.Datapoints, seen.Brief = a.watch.datapoints(ev, now, nil)
		for _, r := range matched {
			var deliveries []store.Delivery
			var errs []error
			if !mute.rules[r.Name] {
				deliveries, errs = a.router.Deliveries(r, ev, now, mute.routes)
			}
			for _, err := range errs {
				a.renderFailures.Inc()
				a.log.Error("delivery not queued", "rule", r.Name, "event", ev.Key(), "err", err)
			}
			threshold := r.Dedup.Threshold
			if threshold < 1 {
				threshold = 1
			}
			seen.Hits = append(seen.Hits, store.Hit{
				Rule:        r.Name,
				DedupKey:    r.DedupKey(ev),
				DedupPeriod: r.Dedup.Period,
				Threshold:   threshold,
				Alert:       alert.New(r, ev),
				Deliveries:  deliveries,
			})
		}
		batch = append(batch, seen)
	}
	res, err := a.store.Record(ctx, batch)
	if err != nil {
		return web.IngestResult{}, err
	}
	if res.Queued > 0 {
		a.outbox.Kick()
	}
	return web.IngestResult{Events: res.Events, Duplicates: res.Duplicates, Alerts: res.Alerts}, nil
}

func (a *App) ack(ctx context.Context, id, by string) error {
	err := a.store.Ack(ctx, id, by)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", web.ErrNotFound, id)
	}
	return err
}

func (a *App) ackURL(alertID string) string {
	base := a.o.PublicURL
	if base == "" {
		base = "http://" + a.Addr()
	}
	return web.SignAckURL(strings.TrimRight(base, "/"), a.ackKey, alertID)
}

// newSources builds the SQS sources: each hands its events to Ingest and
// deletes a message only once Ingest returned, that is once its alerts are
// durable.
func (a *App) newSources(ctx context.Context) error {
	if len(a.o.SQSQueues) == 0 {
		return nil
	}
	sqsClient, s3Client := a.o.SQSClient, a.o.S3Client
	if sqsClient == nil || s3Client == nil {
		var opts []func(*awsconfig.LoadOptions) error
		if a.o.AWSRegion != "" {
			opts = append(opts, awsconfig.WithRegion(a.o.AWSRegion))
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return fmt.Errorf("aws config: %w", err)
		}
		endpoint := a.o.AWSEndpoint
		if sqsClient == nil {
			sqsClient = sqs.NewFromConfig(cfg, func(o *sqs.Options) {
				if endpoint != "" {
					o.BaseEndpoint = &endpoint
				}
			})
		}
		if s3Client == nil {
			if a.o.S3RoleARN != "" {
				// The trail bucket may be another account's.
				cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), a.o.S3RoleARN))
			}
			s3Client = s3.NewFromConfig(cfg, func(o *s3.Options) {
				if endpoint != "" {
					o.BaseEndpoint = &endpoint
					o.UsePathStyle = true
				}
			})
		}
	}
	for _, q := range a.o.SQSQueues {
		a.sources = append(a.sources, sqssrc.New(sqsClient, s3Client, a.sink, sqssrc.Options{
			QueueURL:   q,
			Clock:      a.clock,
			Logger:     a.log.With("source", "sqs", "queue", q),
			Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"queue": q}, a.registry),
		}))
	}
	return nil
}

// awsConfig loads the AWS SDK configuration sources use: the standard
// credential chain, --aws-region.
func (a *App) awsConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// newLogSources builds the CloudWatch Logs and CloudTrail event history
// pollers; both keep their checkpoints in the store and save them only
// once Ingest returned.
func (a *App) newLogSources(ctx context.Context) error {
	endpoint := a.o.AWSEndpoint
	for _, g := range a.o.LogGroups {
		client := a.o.LogsClient
		if client == nil {
			cfg, err := a.awsConfig(ctx, a.o.AWSRegion)
			if err != nil {
				return err
			}
			client = cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
				if endpoint != "" {
					o.BaseEndpoint = &endpoint
				}
			})
		}
		src, err := cwlsrc.New(client, a.store, a.sink, cwlsrc.Options{LogGroup: g, Clock: a.clock, Logger: a.log.With("source", "cloudwatch-logs", "log_group", g)})
		if err != nil {
			return fmt.Errorf("cloudwatch-logs source %s: %w", g, err)
		}
		a.logSrcs = append(a.logSrcs, src)
	}
	if len(a.o.LookupRegions) > 0 {
		regions := a.o.LookupRegions
		if len(regions) == 1 && regions[0] == "all" {
			var err error
			if regions, err = a.enabledRegions(ctx); err != nil {
				return fmt.Errorf("lookup-events source: %w", err)
			}
			a.log.Info("lookup-events in every enabled region", "regions", regions)
		}
		clients := map[string]lookupsrc.API{}
		for _, r := range regions {
			if a.o.TrailClient != nil {
				clients[r] = a.o.TrailClient(r)
				continue
			}
			cfg, err := a.awsConfig(ctx, r)
			if err != nil {
				return err
			}
			clients[r] = cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
				if endpoint != "" {
					o.BaseEndpoint = &endpoint
				}
			})
		}
		src, err := lookupsrc.New(clients, a.store, a.sink, lookupsrc.Options{Clock: a.clock, Logger: a.log.With("source", "lookup-events")})
		if err != nil {
			return fmt.Errorf("lookup-events source: %w", err)
		}
		a.logSrcs = append(a.logSrcs, src)
	}
	return nil
}

// enabledRegions lists the regions the account has enabled.
func (a *App) enabledRegions(ctx context.Context) ([]string, error) {
	client := a.o.AccountClient
	if client == nil {
		cfg, err := a.awsConfig(ctx, a.o.AWSRegion)
		if err != nil {
			return nil, err
		}
		client = account.NewFromConfig(cfg)
	}
	p := account.NewListRegionsPaginator(client, &account.ListRegionsInput{
		RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault},
	})
	var regions []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list enabled regions: %w", err)
		}
		for _, r := range out.Regions {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	}
	if len(regions) == 0 {
		return nil, errors.New("the account has no enabled region")
	}
	return regions, nil
}

// newS3Pollers builds the S3 pollers: each hands a log file's events to
// Ingest and saves its checkpoint only once Ingest returned for the whole
// file.
func (a *App) newS3Pollers(ctx context.Context) error {
	for _, u := range a.o.S3Sources {
		bucket, prefix, err := s3src.ParseURL(u)
		if err != nil {
			return fmt.Errorf("s3 source: %w", err)
		}
		c, ok := a.o.S3Client.(s3src.Client)
		if !ok {
			if c, err = s3src.NewClient(ctx, s3src.Options{Bucket: bucket, Region: a.o.AWSRegion, Endpoint: a.o.AWSEndpoint, RoleARN: a.o.S3RoleARN}); err != nil {
				return fmt.Errorf("s3 source %s: %w", u, err)
			}
		}
		a.pollers = append(a.pollers, s3poll.New(c, a.store, a.sink, s3poll.Options{
			Bucket:     bucket,
			Prefix:     prefix,
			Clock:      a.clock,
			Logger:     a.log.With("source", "s3", "url", u),
			Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"url": u}, a.registry),
		}))
	}
	return nil
}

// sink is Ingest as sources call it: they acknowledge (delete, checkpoint)
// only once it returned, that is once the alerts are durable.
func (a *App) sink(ctx context.Context, evs []*event.Event) error {
	_, err := a.Ingest(ctx, evs)
	return err
}

// Listen binds the HTTP address (so tests can use port 0 and read Addr).
func (a *App) Listen() error {
	if a.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", a.o.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.ln = ln
	return nil
}

// Addr is the bound address, or the configured one before Listen.
func (a *App) Addr() string {
	if a.ln != nil {
		return a.ln.Addr().String()
	}
	return a.o.Listen
}

// Store gives tests and commands the store.
func (a *App) Store() store.Store { return a.store }

// Config is the loaded configuration.
func (a *App) Config() *config.Config { return a.cfg }

// Run serves HTTP and delivers notifications until ctx ends, then shuts
// down gracefully.
func (a *App) Run(ctx context.Context) error {
	if err := a.Listen(); err != nil {
		return err
	}
	a.srv = &http.Server{
		Handler:           a.web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	run("outbox", a.outbox.Run)
	run("prune", a.prune)
	// Reminders, alarms and the schedules that switch alarm actions run
	// on the leader only (one node of those on a PostgreSQL database);
	// mute schedules, which only decide what this node's Ingest sends,
	// on every node.
	run("leader", func(ctx context.Context) error { return a.lease.Run(ctx, a.lead) })
	if mutes := a.watch.muteSchedules(); len(mutes) > 0 {
		run("mutes", func(ctx context.Context) error {
			a.restoreMutes(ctx, a.clock.Now())
			return a.watchLoop(ctx, mutes, false)
		})
	}
	for _, src := range a.sources {
		run("sqs", src.Run)
	}
	for _, src := range a.logSrcs {
		run("logs", src.Run)
	}
	for _, p := range a.pollers {
		run("s3", p.Run)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
			cancel()
		}
	}()
	a.log.Info("serving", "addr", a.Addr(), "rules", len(a.cfg.Rules), "receivers", len(a.cfg.Receivers))
	<-ctx.Done()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	a.srv.Shutdown(shutdownCtx)
	wg.Wait()
	close(errc)
	return <-errc
}

// SeenRetention is how long an eventID is remembered, so that a redelivery
// (SQS, a second region, a replayed file) alerts once.
const SeenRetention = 14 * 24 * time.Hour

// prune forgets eventIDs older than SeenRetention, once an hour.
func (a *App) prune(ctx context.Context) error {
	for {
		if n, err := a.store.PruneEvents(ctx, a.clock.Now().Add(-SeenRetention)); err != nil {
			a.log.Warn("prune seen events", "err", err)
		} else if n > 0 {
			a.log.Info("pruned seen events", "count", n)
		}
		t := a.clock.NewTimer(time.Hour)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// Close releases the store.
func (a *App) Close() error { return a.store.Close() }

// publicHost is the host[:port] of --public-url ("" without one).
func publicHost(public string) string {
	u, err := url.Parse(public)
	if err != nil {
		return ""
	}
	return u.Host
}

// sessionKey is the web UI's session key, derived from the ack-link key:
// kept in the data directory (or the secret the nodes share), it keeps
// people logged in across restarts and on every node.
func sessionKey(ackKey []byte) []byte {
	m := hmac.New(sha256.New, ackKey)
	m.Write([]byte("trailwatch web ui sessions"))
	return m.Sum(nil)
}

// ackKeyCheckpoint is where the nodes on one PostgreSQL database keep
// their shared ack-link key.
const ackKeyCheckpoint = "secret/ack-key"

// ackKey is the HMAC key of acknowledgement links (and, derived, of web UI
// sessions): the ack.key file in the data directory when there is one;
// else, for nodes sharing a database, one key kept in it (the first node
// makes it, every node uses it); else a new ack.key file, made on first
// start so that links stay valid across restarts.
func ackKey(ctx context.Context, path string, st store.Store, shared bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) >= 32:
		return b, nil
	case err == nil:
		return nil, fmt.Errorf("ack key: %s holds %d bytes, want 32 or more (remove it and one is made)", path, len(b))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("ack key: %w", err)
	case !shared:
		return loadOrCreateKey(path)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	v, err := st.InitCheckpoint(ctx, ackKeyCheckpoint, hex.EncodeToString(fresh))
	if err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("ack key: the database's %s is not a hex key of 32 bytes or more", ackKeyCheckpoint)
	}
	return key, nil
}

// loadOrCreateKey reads the HMAC key of acknowledgement links, creating it
// on first start so that links stay valid across restarts.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	return b, nil
}
