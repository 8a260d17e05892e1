{#- The part of a household's local day a session starts in (docs/metrics.md, "Local time"). -#}
{% macro daypart(local_timestamp) -%}
    case
        when {{ local_timestamp }} is null then null
        when hour({{ local_timestamp }}) >= 23 or hour({{ local_timestamp }}) < 6 then 'overnight'
        when hour({{ local_timestamp }}) >= 19 then 'evening'
        when isodow({{ local_timestamp }}) >= 6 then 'weekend_daytime'
        when hour({{ local_timestamp }}) < 9 then 'before_school'
        when hour({{ local_timestamp }}) < 15 then 'school_hours'
        else 'after_school'
    end
{%- endmacro %}

{#- One session count column per daypart, e.g. before_school_sessions. -#}
{% macro daypart_session_counts(daypart_column) -%}
    {%- for daypart in var('rewatch__dayparts') -%}
        count(*) filter (where {{ daypart_column }} = '{{ daypart }}') as {{ daypart }}_sessions
        {{- ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- The daypart session columns of `relation`; with `null_as_zero`, a missing count is 0. -#}
{% macro daypart_session_columns(relation, null_as_zero=true) -%}
    {%- for daypart in var('rewatch__dayparts') -%}
        {%- if null_as_zero -%}
        coalesce({{ relation }}.{{ daypart }}_sessions, 0) as {{ daypart }}_sessions
        {%- else -%}
        {{ relation }}.{{ daypart }}_sessions
        {%- endif -%}
        {{- ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
