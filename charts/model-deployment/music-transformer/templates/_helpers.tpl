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

{{/*
Labels on every object: Kubernetes' recommended app.kubernetes.io/* labels. No helm.sh/chart
label: it carries the chart version, so a chart bump would touch every object (and every diff).
*/}}
{{- define "music-transformer.labels" -}}
app.kubernetes.io/name: {{ .Values.name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ include "music-transformer.versionLabel" . | quote }}
app.kubernetes.io/component: model-deployment
app.kubernetes.io/part-of: modeldeploy
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
opendatahub.io/dashboard: "true"
{{- end }}

{{/*
The model version as a label value: a tag may be 128 characters and start or end with
`_`, `.` or `-`, a label value at most 63 and must start and end with a letter or digit.
*/}}
{{- define "music-transformer.versionLabel" -}}
{{- .Values.version | toString | trunc 63 | trimAll "-_." -}}
{{- end }}

{{/* The OCI modelcar the predictor pulls: oci://<repository>/<namespace>/<name>:<version>. */}}
{{- define "music-transformer.storageUri" -}}
{{- printf "oci://%s/%s/%s:%s" .Values.image_repository .Values.image_namespace .Values.name .Values.version -}}
{{- end }}
