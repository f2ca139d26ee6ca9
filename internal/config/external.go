package config

import (
	"fmt"
)

// Resources are CloudFormation-shaped resources read from another language
// (Terraform, by internal/config/terraform), each located in its own file.
// LoadWith turns them into rules, receivers, routes, metric filters,
// alarms and schedules with the same code and checks as a template's.
type Resources struct {
	// Name stands for the stack: it prefixes receiver and route names and
	// Skipped entries made while building.
	Name string
	// Region, Account and Partition give the ARNs the resources get;
	// "": us-east-1, 123456789012, from the region.
	Region, Account, Partition string
	Items                      []Resource
	// Skipped are the reader's own (resources it does not run).
	Skipped []string
}

// Resource is one resource: ID is its address (aws_sns_topic.alerts),
// Type its CloudFormation type (AWS::SNS::Topic).
type Resource struct {
	ID, Type string
	File     string
	Line     int
	Col      int
	Props    *Value // a mapping
}

// ValueKind is a Value's shape.
type ValueKind int

// The shapes of a Value.
const (
	Scalar ValueKind = iota
	List
	Map
)

// Value is a property value with where it was written.
type Value struct {
	Kind ValueKind
	// Scalar: its text and type ("str", "int", "float", "bool").
	Str, Tag string
	List     []*Value
	Keys     []string
	Vals     []*Value
	File     string
	Line     int
	Col      int
	Secret   bool
}

func (v *Value) tval() *tval {
	if v == nil {
		return nil
	}
	t := &tval{kind: vkind(v.Kind), s: v.Str, tag: v.Tag, p: pos{line: v.Line, col: v.Col, file: v.File}, secret: v.Secret}
	if t.kind == vScalar && t.tag == "" {
		t.tag = "str"
	}
	for _, e := range v.List {
		t.list = append(t.list, e.tval())
	}
	t.keys = append(t.keys, v.Keys...)
	for _, e := range v.Vals {
		t.vals = append(t.vals, e.tval())
	}
	return t
}

// loadResources builds one set of external resources as a template's.
func loadResources(l *errList, rs *Resources) *templateResult {
	params := map[string]string{"AWS::StackName": rs.Name}
	if rs.Region != "" {
		params["AWS::Region"] = rs.Region
	}
	if rs.Account != "" {
		params["AWS::AccountId"] = rs.Account
	}
	if rs.Partition != "" {
		params["AWS::Partition"] = rs.Partition
	}
	t := &tmpl{
		file: rs.Name, l: l, params: params,
		paramVals: map[string]*tval{}, declared: map[string]bool{},
		condVals: map[string]bool{}, condState: map[string]int{},
		resources: map[string]*resource{}, arnIndex: map[string]string{},
	}
	t.out.declared = t.declared
	t.out.topics = map[string][]string{}
	t.out.skipped = append(t.out.skipped, rs.Skipped...)
	t.setPseudo()
	for _, it := range rs.Items {
		p := pos{line: it.Line, col: it.Col, file: it.File}
		if _, dup := t.resources[it.ID]; dup {
			t.errorf(p, it.ID, "duplicate resource address")
			continue
		}
		props := it.Props.tval()
		if props == nil {
			props = &tval{kind: vMap, p: p}
		}
		t.resources[it.ID] = &resource{id: it.ID, typ: it.Type, node: &tval{kind: vMap, p: p}, props: props, p: p, created: true}
		t.order = append(t.order, it.ID)
	}
	t.build()
	return &t.out
}

// Region is the region LoadWith gives resources without one.
const defaultRegion = "us-east-1"

// ARN is the ARN a template or Resources give a resource of one service
// (for readers that must compute the same ARNs LoadWith does).
func ARN(partition, service, region, account, resource string) string {
	if region == "" {
		region = defaultRegion
	}
	if account == "" {
		account = "123456789012"
	}
	if partition == "" {
		partition, _ = partitionOf(region)
	}
	if service == "iam" {
		region = ""
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition, service, region, account, resource)
}
