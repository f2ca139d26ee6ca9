package alarm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// regionNames are the long region names CloudWatch writes in SNS alarm
// messages ("Region") and subjects.
var regionNames = map[string]string{
	"us-east-1":      "US East (N. Virginia)",
	"us-east-2":      "US East (Ohio)",
	"us-west-1":      "US West (N. California)",
	"us-west-2":      "US West (Oregon)",
	"af-south-1":     "Africa (Cape Town)",
	"ap-east-1":      "Asia Pacific (Hong Kong)",
	"ap-south-1":     "Asia Pacific (Mumbai)",
	"ap-south-2":     "Asia Pacific (Hyderabad)",
	"ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-southeast-3": "Asia Pacific (Jakarta)",
	"ap-southeast-4": "Asia Pacific (Melbourne)",
	"ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-northeast-3": "Asia Pacific (Osaka)",
	"ca-central-1":   "Canada (Central)",
	"ca-west-1":      "Canada West (Calgary)",
	"eu-central-1":   "EU (Frankfurt)",
	"eu-central-2":   "EU (Zurich)",
	"eu-west-1":      "EU (Ireland)",
	"eu-west-2":      "EU (London)",
	"eu-west-3":      "EU (Paris)",
	"eu-south-1":     "EU (Milan)",
	"eu-south-2":     "EU (Spain)",
	"eu-north-1":     "EU (Stockholm)",
	"il-central-1":   "Israel (Tel Aviv)",
	"me-south-1":     "Middle East (Bahrain)",
	"me-central-1":   "Middle East (UAE)",
	"sa-east-1":      "South America (Sao Paulo)",
	"us-gov-east-1":  "AWS GovCloud (US-East)",
	"us-gov-west-1":  "AWS GovCloud (US-West)",
}

// RegionName returns the long name of a region code ("US East (Ohio)"),
// or the code itself when unknown.
func RegionName(code string) string {
	if n, ok := regionNames[code]; ok {
		return n
	}
	return code
}

// ARN returns the alarm ARN of the named alarm.
func ARN(region, accountID, name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, accountID, name)
}

// Subject returns the SNS subject CloudWatch gives an alarm notification,
// e.g. `ALARM: "Traffic" in US East (N. Virginia)`, at most 100 characters.
func Subject(t Transition, region string) string {
	s := fmt.Sprintf("%s: %q in %s", t.To, t.Alarm, RegionName(region))
	if utf8.RuneCountInString(s) > 100 {
		s = string([]rune(s)[:100])
	}
	return s
}

// treatMissingLabel is how observed SNS messages write TreatMissingData.
const treatMissingLabel = "- TreatMissingData:                    "

type snsDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

type snsTrigger struct {
	MetricName                       string         `json:"MetricName"`
	Namespace                        string         `json:"Namespace"`
	StatisticType                    string         `json:"StatisticType"`
	Statistic                        string         `json:"Statistic,omitempty"`
	ExtendedStatistic                string         `json:"ExtendedStatistic,omitempty"`
	Unit                             *string        `json:"Unit"`
	Dimensions                       []snsDimension `json:"Dimensions"`
	Period                           int64          `json:"Period"`
	EvaluationPeriods                int            `json:"EvaluationPeriods"`
	DatapointsToAlarm                int            `json:"DatapointsToAlarm"`
	ComparisonOperator               string         `json:"ComparisonOperator"`
	Threshold                        float64        `json:"Threshold"`
	TreatMissingData                 string         `json:"TreatMissingData"`
	EvaluateLowSampleCountPercentile string         `json:"EvaluateLowSampleCountPercentile"`
}

// snsHeader is what CloudWatch's SNS message says of every alarm,
// metric or composite, in CloudWatch's order.
type snsHeader struct {
	AlarmName               string   `json:"AlarmName"`
	AlarmDescription        *string  `json:"AlarmDescription"`
	AWSAccountID            string   `json:"AWSAccountId"`
	NewStateValue           State    `json:"NewStateValue"`
	NewStateReason          string   `json:"NewStateReason"`
	StateChangeTime         string   `json:"StateChangeTime"`
	Region                  string   `json:"Region"`
	AlarmArn                string   `json:"AlarmArn"`
	OldStateValue           State    `json:"OldStateValue"`
	OKActions               []string `json:"OKActions"`
	AlarmActions            []string `json:"AlarmActions"`
	InsufficientDataActions []string `json:"InsufficientDataActions"`
}

// newSNSHeader fills the header of an alarm's transition.
func newSNSHeader(name, description string, t Transition, region, accountID string, ok, alarm, insufficient []string) snsHeader {
	h := snsHeader{
		AlarmName:               name,
		AWSAccountID:            accountID,
		NewStateValue:           t.To,
		NewStateReason:          t.Reason,
		StateChangeTime:         formatAWSTime(t.Time),
		Region:                  RegionName(region),
		AlarmArn:                ARN(region, accountID, name),
		OldStateValue:           t.From,
		OKActions:               nonNil(ok),
		AlarmActions:            nonNil(alarm),
		InsufficientDataActions: nonNil(insufficient),
	}
	if description != "" {
		h.AlarmDescription = &description
	}
	return h
}

type snsMessage struct {
	snsHeader
	Trigger snsTrigger `json:"Trigger"`
	// Events is Trailwatch's addition: the eventIDs behind the breaching
	// datapoints.
	Events []string `json:"Events,omitempty"`
}

// Notification renders the SNS message CloudWatch sends for a transition
// (specs §3.6), plus "Events": the event keys behind the breaching
// datapoints, when there are any.
func Notification(c Config, t Transition, region, accountID string) []byte {
	c = c.normalized()
	m := snsMessage{
		snsHeader: newSNSHeader(c.Name, c.Description, t, region, accountID, c.OKActions, c.AlarmActions, c.InsufficientDataActions),
		Events:    t.Events,
		Trigger: snsTrigger{
			MetricName:         c.Metric,
			Namespace:          c.Namespace,
			StatisticType:      "Statistic",
			Dimensions:         []snsDimension{},
			Period:             int64(c.Period / time.Second),
			EvaluationPeriods:  c.EvaluationPeriods,
			DatapointsToAlarm:  c.DatapointsToAlarm,
			ComparisonOperator: c.ComparisonOperator,
			Threshold:          c.Threshold,
			TreatMissingData:   treatMissingLabel + c.TreatMissingData,
		},
	}
	if c.Unit != "" {
		m.Trigger.Unit = &c.Unit
	}
	if st, err := ParseStatistic(c.Statistic); err == nil && st.IsExtended() {
		m.Trigger.StatisticType = "ExtendedStatistic"
		m.Trigger.ExtendedStatistic = st.Name
		m.Trigger.EvaluateLowSampleCountPercentile = c.EvaluateLowSampleCountPercentile
	} else {
		m.Trigger.Statistic = strings.ToUpper(c.Statistic)
		if c.Statistic == "SampleCount" {
			m.Trigger.Statistic = "SAMPLE_COUNT"
		}
	}
	for _, k := range sortedKeys(c.Dimensions) {
		m.Trigger.Dimensions = append(m.Trigger.Dimensions, snsDimension{Value: c.Dimensions[k], Name: k})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "OK -> ALARM", as CloudWatch writes it
	if math.IsNaN(m.Trigger.Threshold) || math.IsInf(m.Trigger.Threshold, 0) {
		m.Trigger.Threshold = 0 // an invalid Config; JSON has no NaN
	}
	if err := enc.Encode(m); err != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
