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

{#- The latest snapshot per `key_column` as this run leaves it, reading the published rows
    (`published`: the published int_*_current, one row per key with its export_date) and this
    run's nights' snapshots, not every night's: the latest processed night that lists a key is
    its published row's night, unless this run delivers that night again, or a later one. Only a
    key whose published row came from a night this run delivers again, and that the new delivery
    no longer lists, is looked up in the earlier processed nights' snapshots (`nights`: the
    processed nights after the run). `snapshots`, `published` and `nights` are CTE names of the
    calling model; `snapshots` must not be materialized (it holds every night's rows). -#}
{% macro latest_snapshot_after_run(snapshots, published, nights, key_column) -%}
    select candidates.*
    from (
        select {{ published }}.*
        from {{ published }}
        where {{ published }}.export_date not in ({{ run_nights() }})

        union all by name

        select {{ snapshots }}.*
        from {{ snapshots }}
        where {{ snapshots }}.export_date in ({{ run_nights() }})

        union all by name

        select {{ snapshots }}.*
        from {{ snapshots }}
        inner join {{ nights }}
            on {{ snapshots }}.export_date = {{ nights }}.export_date
        where
            {{ snapshots }}.export_date not in ({{ run_nights() }})
            and {{ snapshots }}.{{ key_column }} in (
                select dropped.{{ key_column }}
                from {{ published }} as dropped
                where
                    dropped.export_date in ({{ run_nights() }})
                    and dropped.{{ key_column }} not in (
                        select redelivered.{{ key_column }}
                        from {{ snapshots }} as redelivered
                        where redelivered.export_date in ({{ run_nights() }})
                    )
            )
    ) as candidates
    qualify row_number() over (
        partition by candidates.{{ key_column }}
        order by candidates.export_date desc
    ) = 1
{%- endmacro %}
