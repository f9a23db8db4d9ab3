{{/*
The prefix of every object's name: smartcity-controller-manager, smartcity-manager-role, ...
as in install.yaml (kustomize namePrefix).
*/}}
{{- define "smartcity-operator.prefix" -}}
{{- required "namePrefix must not be empty" .Values.namePrefix | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The manager's ServiceAccount and Deployment. */}}
{{- define "smartcity-operator.manager" -}}
{{- include "smartcity-operator.prefix" . }}-controller-manager
{{- end -}}

{{/* The metrics Service. */}}
{{- define "smartcity-operator.metricsService" -}}
{{- include "smartcity-operator.prefix" . }}-controller-manager-metrics-service
{{- end -}}

{{/*
Helm's labels on every object: the only labels install.yaml does not have (it has
app.kubernetes.io/managed-by: kustomize instead).
*/}}
{{- define "smartcity-operator.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Labels of every object: the project's name and Helm's. */}}
{{- define "smartcity-operator.labels" -}}
app.kubernetes.io/name: smartcity-operator
{{ include "smartcity-operator.helmLabels" . }}
{{- end -}}

{{/* The manager's pod labels, which its Deployment, Service and NetworkPolicy select. */}}
{{- define "smartcity-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: smartcity-operator
{{- end -}}

{{/* The manager's image: repository:tag (tag defaults to the chart's appVersion), or @digest. */}}
{{- define "smartcity-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/*
The manager's arguments, as a YAML list: --leader-elect when leader election is on, then every
flag whose value is set (not null, not ""); a flag left out keeps the operator's default.
*/}}
{{- define "smartcity-operator.args" -}}
{{- $o := .Values.operator -}}
{{- $flags := list
  (list "leader-election-namespace" .Values.leaderElection.namespace)
  (list "health-probe-bind-address" (printf ":%v" .Values.health.port))
  (list "metrics-bind-address" (ternary (printf ":%v" .Values.metrics.port) "0" .Values.metrics.enabled))
  (list "metrics-secure" .Values.metrics.secure)
  (list "enable-http2" .Values.metrics.enableHTTP2)
  (list "cluster-domain" $o.clusterDomain)
  (list "verify-connectivity" $o.verifyConnectivity)
  (list "publicservice-concurrency" $o.publicServiceConcurrency)
  (list "networkzone-concurrency" $o.networkZoneConcurrency)
  (list "connectivity-concurrency" $o.connectivityConcurrency)
  (list "first-render-hold" $o.firstRenderHold)
  (list "pprof-bind-address" $o.pprofBindAddress)
  (list "gateway" $o.gateway)
  (list "ingress-class" $o.ingressClass)
  (list "ingress-controller-namespace" $o.ingressControllerNamespace)
  (list "dns-namespace" $o.dnsNamespace)
  (list "dns-pod-labels" (include "smartcity-operator.dnsPodLabels" .))
  (list "zone-service-type" $o.zoneServiceType)
-}}
{{- $args := list -}}
{{- if .Values.leaderElection.enabled -}}
{{- $args = append $args "--leader-elect" -}}
{{- end -}}
{{- range $flags -}}
{{- $v := index . 1 -}}
{{- if and (not (kindIs "invalid" $v)) (ne (toString $v) "") -}}
{{- $args = append $args (printf "--%s=%v" (index . 0) $v) -}}
{{- end -}}
{{- end -}}
{{- toYaml $args -}}
{{- end -}}

{{/* The labels of the cluster DNS pods, as --dns-pod-labels takes them: key=value,... (sorted). */}}
{{- define "smartcity-operator.dnsPodLabels" -}}
{{- $pairs := list -}}
{{- range $k, $v := .Values.operator.dnsPodLabels -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
