package alarm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

type ebMetric struct {
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
}

type ebMetricStat struct {
	Metric ebMetric `json:"metric"`
	Period int64    `json:"period"`
	Stat   string   `json:"stat"`
	Unit   string   `json:"unit,omitempty"`
}

type ebMetricQuery struct {
	ID         string       `json:"id"`
	MetricStat ebMetricStat `json:"metricStat"`
	ReturnData bool         `json:"returnData"`
}

type ebState struct {
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData,omitempty"`
	Timestamp  string `json:"timestamp"`
	Value      State  `json:"value"`
}

type ebDetail struct {
	AlarmName     string `json:"alarmName"`
	Configuration struct {
		Description string          `json:"description,omitempty"`
		Metrics     []ebMetricQuery `json:"metrics"`
	} `json:"configuration"`
	PreviousState ebState `json:"previousState"`
	State         ebState `json:"state"`
	// Events is Trailwatch's addition, as in Notification.
	Events []string `json:"events,omitempty"`
}

// ebEvent is the EventBridge envelope of an alarm's state change, metric
// (D *ebDetail) or composite (*ebCompositeDetail).
type ebEvent[D any] struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     D        `json:"detail"`
}

// stateChangeEvent renders the EventBridge event of alarm name's
// transition t with its detail.
func stateChangeEvent[D any](name string, t Transition, region, accountID, id string, detail D) []byte {
	ev := ebEvent[D]{
		Version: "0", ID: id, DetailType: "CloudWatch Alarm State Change", Source: "aws.cloudwatch",
		Account: accountID, Time: t.Time.UTC().Format(time.RFC3339), Region: region,
		Resources: []string{ARN(region, accountID, name)}, Detail: detail,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// StateChangeEvent renders the EventBridge event CloudWatch sends for every
// state change, actions enabled or not ("CloudWatch Alarm State Change",
// source aws.cloudwatch, specs §3.6). id is the event's id; the metric's
// id in the configuration is derived from the alarm's name.
func StateChangeEvent(c Config, t Transition, region, accountID, id string) []byte {
	c = c.normalized()
	d := &ebDetail{AlarmName: c.Name}
	d.Configuration.Description = c.Description
	d.Configuration.Metrics = []ebMetricQuery{{
		ID: metricQueryID(c.Name),
		MetricStat: ebMetricStat{
			Metric: ebMetric{Dimensions: c.Dimensions, Name: c.Metric, Namespace: c.Namespace},
			Period: int64(c.Period / time.Second), Stat: c.Statistic, Unit: c.Unit,
		},
		ReturnData: true,
	}}
	d.PreviousState = ebState{Reason: t.FromReason, ReasonData: string(t.FromReasonData), Timestamp: formatAWSTime(t.FromTime), Value: t.From}
	d.State = ebState{Reason: t.Reason, ReasonData: string(t.ReasonData), Timestamp: formatAWSTime(t.Time), Value: t.To}
	d.Events = t.Events
	return stateChangeEvent(c.Name, t, region, accountID, id, d)
}

// metricQueryID is a stable UUID-shaped id for the alarm's metric.
func metricQueryID(name string) string {
	h := sha256.Sum256([]byte("trailwatch alarm metric " + name))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
