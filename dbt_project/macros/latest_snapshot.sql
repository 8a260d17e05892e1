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
    run's nights' snapshots (`run_snapshots`), not every night's: the latest processed night
    that lists a key is its published row's night, unless this run delivers that night again,
    or a later one. Only a key whose published row came from a night this run delivers again,
    and that the new delivery no longer lists, is looked up in the earlier processed nights'
    snapshots (`snapshots`: every night's, `nights`: the processed nights after the run). That
    lookup is a semi join on those keys: with none (nearly every night) DuckDB skips it and
    reads no other night's file. `snapshots` must be read nowhere else in the calling model: a
    second read would make DuckDB share one scan of every night's rows. The arguments are CTE
    names of the calling model. -#}
{% macro latest_snapshot_after_run(snapshots, run_snapshots, published, nights, key_column) -%}
    select candidates.*
    from (
        select {{ published }}.*
        from {{ published }}
        where {{ published }}.export_date not in ({{ run_nights() }})

        union all by name

        select {{ run_snapshots }}.*
        from {{ run_snapshots }}

        union all by name

        select {{ snapshots }}.*
        from {{ snapshots }}
        inner join {{ nights }}
            on {{ snapshots }}.export_date = {{ nights }}.export_date
        semi join (
            select dropped.{{ key_column }}
            from {{ published }} as dropped
            anti join {{ run_snapshots }} as redelivered
                on dropped.{{ key_column }} = redelivered.{{ key_column }}
            where dropped.export_date in ({{ run_nights() }})
        ) as dropped_keys
            on {{ snapshots }}.{{ key_column }} = dropped_keys.{{ key_column }}
        where {{ snapshots }}.export_date not in ({{ run_nights() }})
    ) as candidates
    qualify row_number() over (
        partition by candidates.{{ key_column }}
        order by candidates.export_date desc
    ) = 1
{%- endmacro %}
