{{/*
Named templates shared by every manifest of the chart. Files whose name
starts with "_" render nothing themselves.
*/}}

{{/*
The chart's name, cut to 63 characters: the limit of a label value.
*/}}
{{- define "wine-api.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: the release name, with the chart's name appended
unless the release name already contains it. `helm install wine-api .` gives
"wine-api"; `helm install staging .` gives "staging-wine-api". Two releases
in one namespace therefore never collide.
*/}}
{{- define "wine-api.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label ("+" is not allowed in
label values).
*/}}
{{- define "wine-api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels that select this release's pods. They go into the Deployment's
selector, which cannot change after the first install: keep them stable
(no version here).
*/}}
{{- define "wine-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wine-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Every object's labels: the selector labels plus what describes the release.
*/}}
{{- define "wine-api.labels" -}}
helm.sh/chart: {{ include "wine-api.chart" . }}
{{ include "wine-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is set (one exact
image), repository:tag otherwise. An empty tag means the chart's appVersion.
*/}}
{{- define "wine-api.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}
