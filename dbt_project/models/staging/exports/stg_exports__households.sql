{{ stg_households(source('exports', 'households')) }}
