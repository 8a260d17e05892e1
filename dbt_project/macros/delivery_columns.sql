{#- The columns of a delivery that decide which delivery of an event wins and which streams a
    night changes: int_run_published_event_deliveries and int_run_event_deliveries select these. -#}
{% macro delivery_columns() -%}
    {{ return([
        'event_id', 'household_id', 'profile_id', 'device_id', 'title_id', 'event_at',
        'export_date', 'source_file', 'source_line'
    ]) }}
{%- endmacro %}
