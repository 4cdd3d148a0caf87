{{- define "trustyai.labels" -}}
app.kubernetes.io/name: trustyai-service
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/part-of: trustyai
{{- end }}
