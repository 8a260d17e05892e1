{#- The part of a household's local day a session starts in (docs/metrics.md, "Local time"). -#}
{% macro daypart(local_timestamp) -%}
    case
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
    {%- for daypart in ['before_school', 'school_hours', 'after_school', 'evening', 'overnight', 'weekend_daytime'] -%}
        count(*) filter (where {{ daypart_column }} = '{{ daypart }}') as {{ daypart }}_sessions
        {{- ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- The daypart session columns of `relation`, null counts as 0. -#}
{% macro daypart_session_columns(relation) -%}
    {%- for daypart in ['before_school', 'school_hours', 'after_school', 'evening', 'overnight', 'weekend_daytime'] -%}
        coalesce({{ relation }}.{{ daypart }}_sessions, 0) as {{ daypart }}_sessions
        {{- ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
