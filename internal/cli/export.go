package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/trailwatch/trailwatch/internal/export"
	"github.com/trailwatch/trailwatch/internal/rule"
)

const exportHelp = "export cloudformation|terraform (--endpoint URL | --queue ARN) [--regions R,R...] [--home-region R] [--organization-trail BUCKET] [--only-rule-sources [--rules PATH]...] [--read-only-events] [--name PREFIX] [-o FILE]"

// runExport is `trailwatch export`: the AWS side of the user's chosen
// path, as a CloudFormation template or Terraform configuration.
func runExport(args []string, env *Env) (int, error) {
	fs := newFlagSet("export", env, exportHelp)
	endpoint := fs.String("endpoint", "", "Trailwatch's HTTPS `URL` (POST /events): rules forward through an API destination")
	queue := fs.String("queue", "", "SQS queue `ARN` Trailwatch polls: rules send to it")
	regions := fs.String("regions", "", "comma-separated `REGIONS` that get the rules (default "+strings.Join(export.DefaultRegions, ",")+" and the home region)")
	home := fs.String("home-region", "", "`REGION` of the one-off resources: reader role, log file queue (default: the queue's region, else $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
	orgTrail := fs.String("organization-trail", "", "organization trail `BUCKET`: S3 -> SQS notifications of its new log files (in the home region)")
	onlyRules := fs.Bool("only-rule-sources", false, "forward only the API calls the rules can match (built-in packs and --rules)")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule `PATH` (file or directory) for --only-rule-sources, besides the built-in packs; repeatable")
	readOnly := fs.Bool("read-only-events", false, "forward read-only API calls too (ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)")
	name := fs.String("name", "trailwatch", "`PREFIX` of the names of what is created")
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if len(pos) != 1 || (pos[0] != "cloudformation" && pos[0] != "terraform") {
		fs.Usage()
		return ExitFailure, fmt.Errorf("%w: want cloudformation or terraform", errUsage)
	}
	o := export.Options{
		Endpoint:                *endpoint,
		QueueARN:                *queue,
		HomeRegion:              *home,
		OrganizationTrailBucket: *orgTrail,
		ReadOnlyEvents:          *readOnly,
		Name:                    *name,
		Command:                 "trailwatch export " + strings.Join(args, " "),
	}
	if o.HomeRegion == "" && o.QueueARN == "" {
		o.HomeRegion = firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if *regions != "" {
		o.Regions = strings.Split(*regions, ",")
	}
	if len(rulePaths) > 0 && !*onlyRules {
		return ExitFailure, fmt.Errorf("%w: --rules is for --only-rule-sources", errUsage)
	}
	if *onlyRules {
		rs, err := rule.Builtin()
		if err != nil {
			return ExitFailure, err
		}
		if len(rulePaths) > 0 {
			more, err := rule.LoadFiles(rulePaths...)
			if err != nil {
				return ExitFailure, err
			}
			rs = append(rs, more...)
		}
		o.Rules = rs
	}
	var gen func(export.Options) ([]byte, error) = export.CloudFormation
	if pos[0] == "terraform" {
		gen = export.Terraform
	}
	b, err := gen(o)
	if errors.Is(err, export.ErrPath) || errors.Is(err, export.ErrOption) {
		return ExitFailure, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return ExitFailure, err
	}
	if *onlyRules {
		if p, err := export.BuildPatterns(o.Rules); err == nil {
			for _, n := range p.Notes {
				fmt.Fprintf(env.Stderr, "trailwatch export: note: %s\n", n)
			}
		}
	}
	if *out == "" {
		_, err = env.Stdout.Write(b)
		return ExitOK, err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return ExitFailure, err
	}
	return ExitOK, nil
}

// firstEnv returns the first set one of the environment variables.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
