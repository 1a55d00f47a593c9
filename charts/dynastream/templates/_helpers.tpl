{{/* The chart's name, or nameOverride. */}}
{{- define "dynastream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, else the release name, else `<release>-<chart>`.
Truncated to 54 characters so that "<fullname>-emulator" stays a valid 63-character name.
*/}}
{{- define "dynastream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The ClusterRole the operator binds, per namespace, to each emulator's ServiceAccount. */}}
{{- define "dynastream.emulatorClusterRole" -}}
{{ include "dynastream.fullname" . }}-emulator
{{- end }}

{{- define "dynastream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dynastream.labels" -}}
helm.sh/chart: {{ include "dynastream.chart" . }}
{{ include "dynastream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dynastream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dynastream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The image of both binaries: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "dynastream.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The operator's settings file (operator.json); its field names are the operator's contract. */}}
{{- define "dynastream.operatorConfig" -}}
{{- $deletionPolicy := .Values.operator.deletionPolicy }}
{{- if not (has $deletionPolicy (list "delete" "retain")) }}
{{- fail (printf "operator.deletionPolicy must be delete or retain, not %v" $deletionPolicy) }}
{{- end }}
{{- $emulator := dict
  "image" (.Values.emulator.image | default (include "dynastream.image" .))
  "imagePullPolicy" (.Values.emulator.imagePullPolicy | default .Values.image.pullPolicy)
  "resources" .Values.emulator.resources
  "logLevel" .Values.emulator.logLevel
  "env" .Values.emulator.env
  "args" .Values.emulator.args
  "clusterRole" (include "dynastream.emulatorClusterRole" .)
  "runtimeImages" .Values.runtimeImages
}}
{{- dict
  "emulator" $emulator
  "deletionPolicy" $deletionPolicy
  "resyncSeconds" (int .Values.operator.resyncSeconds)
  "esmStatusSeconds" (int .Values.operator.esmStatusSeconds)
  "watchNamespace" .Values.operator.watchNamespace
  | toPrettyJson }}
{{- end }}
