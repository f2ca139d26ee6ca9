package email

import (
	htmltemplate "html/template"
	"text/template"

	"github.com/trailwatch/trailwatch/internal/notify"
)

type group struct {
	Name  string
	Facts []notify.Fact
}

// groups lists the story's non-empty fact groups in reading order.
func groups(s notify.Story) []group {
	var gs []group
	for _, g := range []group{{"Who", s.Who}, {"What", s.What}, {"When", s.When}, {"Where", s.Where}} {
		if len(g.Facts) > 0 {
			gs = append(gs, g)
		}
	}
	return gs
}

var funcs = map[string]any{"groups": groups}

// The story as plain text: the same facts as the HTML part.
var textTmpl = template.Must(template.New("text").Funcs(funcs).Parse(`{{.Title}}
{{if .Reminder}}
Reminder {{.Reminder}}: this alert has not been acknowledged yet.
{{end}}
{{- if .Summary}}
{{.Summary}}
{{end}}
{{- range $g := groups .}}
{{$g.Name}}
{{- range $g.Facts}}
  {{printf "%-11s" (print .Label ":")}} {{.Value}}
{{- end}}
{{end}}
{{- if .ConsoleURL}}
Open the event in the CloudTrail console:
  {{.ConsoleURL}}
{{end}}
{{- if .AckURL}}
Acknowledge this alert (stops reminders):
  {{.AckURL}}
{{end}}
--
Sent by Trailwatch for rule {{.Rule}}.
`))

// The story as HTML.
var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1d1d1f">
<h2 style="margin:0 0 8px 0">{{.Title}}</h2>
{{if .Reminder}}<p style="color:#b00020"><strong>Reminder {{.Reminder}}:</strong> this alert has not been acknowledged yet.</p>
{{end}}{{if .Summary}}<p>{{.Summary}}</p>
{{end}}<table style="border-collapse:collapse">
{{range $g := groups .}}<tr><th colspan="2" style="text-align:left;padding:10px 0 4px 0">{{$g.Name}}</th></tr>
{{range $g.Facts}}<tr><td style="padding:2px 12px 2px 0;color:#555">{{.Label}}</td><td style="padding:2px 0"><code>{{.Value}}</code></td></tr>
{{end}}{{end}}</table>
<p>{{if .ConsoleURL}}<a href="{{.ConsoleURL}}" style="margin-right:16px">Open in CloudTrail</a>{{end}}
{{if .AckURL}}<a href="{{.AckURL}}"><strong>Acknowledge</strong></a>{{end}}</p>
<p style="color:#888;font-size:12px">Sent by Trailwatch for rule {{.Rule}}.</p>
</body></html>
`))
