{{/* The OCI modelcar the predictor pulls. */}}
{{- define "music-transformer-raw.storageUri" -}}
{{- printf "oci://%s/%s/%s:%s" (.Values.image_repository | default "quay.io") .Values.image_namespace .Values.name (toString .Values.version) -}}
{{- end }}

{{- define "music-transformer-raw.labels" -}}
app.kubernetes.io/name: {{ .Values.name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/part-of: jukebox
opendatahub.io/dashboard: "true"
{{- end }}
