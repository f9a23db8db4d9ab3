{{- /*
  crd-ref-docs v0.3.0's markdown type template, changed for this project:
  - the CEL rules (+kubebuilder:validation:XValidation) are listed with their messages, on
    types and on fields (crd-ref-docs leaves them out);
  - +optional / +required show as "Optional" / "Required" instead of "Optional: {}";
  - a field whose type has rules does not repeat them (they are listed under the type);
  - a kind's printer columns (+kubebuilder:printcolumn) are listed: what `kubectl get` shows.
*/ -}}
{{- define "type" -}}
{{- $type := . -}}
{{- if markdownShouldRenderType $type -}}

#### {{ $type.Name }}

{{ if $type.IsAlias }}_Underlying type:_ _{{ markdownRenderTypeLink $type.UnderlyingType  }}_{{ end }}

{{ $type.Doc }}

{{ if $type.Validation -}}
_Validation:_
{{- range $type.Validation }}
- {{ . }}
{{- end }}
{{- end }}

{{ with (index $type.Markers "kubebuilder:validation:XValidation") -}}
_Rules (CEL, checked by the API server):_
{{- range . }}
- {{ .Message }}: `{{ .Rule }}`
{{- end }}
{{- end }}

{{ with (index $type.Markers "kubebuilder:printcolumn") -}}
_Columns of `kubectl get` (priority 1: only with `-o wide`):_

| Column | JSONPath | Priority |
| --- | --- | --- |
{{ range . -}}
| {{ .Name }} | `{{ .JSONPath }}` | {{ .Priority }} |
{{ end }}
{{ end -}}
{{ if $type.References -}}
_Appears in:_
{{- range $type.SortedReferences }}
- {{ markdownRenderTypeLink . }}
{{- end }}
{{- end }}

{{ if $type.Members -}}
| Field | Description | Default | Validation |
| --- | --- | --- | --- |
{{ if $type.GVK -}}
| `apiVersion` _string_ | `{{ $type.GVK.Group }}/{{ $type.GVK.Version }}` | | |
| `kind` _string_ | `{{ $type.GVK.Kind }}` | | |
{{ end -}}

{{ range $type.Members -}}
| `{{ .Name  }}` _{{ markdownRenderType .Type }}_ | {{ template "type_members" . }} | {{ markdownRenderDefault .Default }} | {{ range .Validation -}} {{ if hasPrefix "Optional:" . }}Optional <br />{{ else if hasPrefix "Required:" . }}Required <br />{{ else if not (hasPrefix "items:XValidation:" .) }}{{ markdownRenderFieldDoc . }} <br />{{ end }}{{ end }}{{ if not (index .Type.Markers "kubebuilder:validation:XValidation") }}{{ range (index .Markers "kubebuilder:validation:XValidation") -}} {{ markdownRenderFieldDoc .Message }} <br />{{ end }}{{ end }}{{ range (index .Markers "kubebuilder:validation:items:XValidation") -}} each item: {{ markdownRenderFieldDoc .Message }} <br />{{ end }} |
{{ end -}}

{{ end -}}

{{ if $type.EnumValues -}} 
| Field | Description |
| --- | --- |
{{ range $type.EnumValues -}}
| `{{ .Name }}` | {{ markdownRenderFieldDoc .Doc }} |
{{ end -}}
{{ end -}}


{{- end -}}
{{- end -}}
