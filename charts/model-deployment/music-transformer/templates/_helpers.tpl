{{/*
Images of the serving stack. Pinned here, not in values: a change of either is a chart
change, which `modeldeploy diff` fans out to every deployment using this chart.
*/}}
{{- define "music-transformer.modelServerImage" -}}
quay.io/modh/openvino_model_server:2025.1
{{- end }}

{{- define "music-transformer.transformerImage" -}}
quay.io/rhoai-mlops/music-transformer:1.0.0
{{- end }}

{{/* Labels on every object; no chart version, so a chart bump does not touch every object. */}}
{{- define "music-transformer.labels" -}}
app.kubernetes.io/name: {{ .Values.name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: model-deployment
app.kubernetes.io/part-of: modeldeploy
opendatahub.io/dashboard: "true"
{{- end }}

{{/* The OCI modelcar the predictor pulls: oci://<repository>/<namespace>/<name>:<version>. */}}
{{- define "music-transformer.storageUri" -}}
{{- printf "oci://%s/%s/%s:%s" .Values.image_repository .Values.image_namespace .Values.name .Values.version -}}
{{- end }}
