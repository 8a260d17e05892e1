{#- Each processed night carries a full snapshot: the latest processed night that lists an
    entity describes it. `snapshots` and `nights` are CTE names of the calling model. -#}
{% macro latest_snapshot(snapshots, nights, key_column) -%}
    select {{ snapshots }}.*
    from {{ snapshots }}
    inner join {{ nights }}
        on {{ snapshots }}.export_date = {{ nights }}.export_date
    qualify row_number() over (
        partition by {{ snapshots }}.{{ key_column }}
        order by {{ snapshots }}.export_date desc
    ) = 1
{%- endmacro %}
