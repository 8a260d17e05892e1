{#- A naive UTC timestamp to the wall-clock time of an IANA zone, whatever the session zone. -#}
{% macro utc_to_local(utc_timestamp, timezone_name) -%}
    timezone({{ timezone_name }}, timezone('UTC', {{ utc_timestamp }}))
{%- endmacro %}
