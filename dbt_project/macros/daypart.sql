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
