{{- define "jukebox-ui.selector" -}}
app.kubernetes.io/name: jukebox-ui
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "jukebox-ui.labels" -}}
{{ include "jukebox-ui.selector" . }}
{{- /* The image tag as a label value: at most 63 characters, a letter or digit at both ends. */}}
app.kubernetes.io/version: {{ regexReplaceAll "^.*:" .Values.image "" | trunc 63 | trimAll "-_." | quote }}
app.kubernetes.io/part-of: jukebox
{{- end }}
