{{ stg_households(source('exports', 'households_this_run')) }}
