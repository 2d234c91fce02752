# bash completion for viommu-boot, viommu-replay, viommu-truth and viommu-bench: options from the tool's
# own --help (so they never go stale), kernel profiles from viommu-boot --list-kernels, trace point
# names from --trace help, workload patterns from --workload help, files otherwise.
_viommu()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} tool=${COMP_WORDS[0]}
    case $prev in
    -k | --kernel)
        COMPREPLY=($(compgen -W "$(viommu-boot --list-kernels 2>/dev/null | cut -d' ' -f1)" -- "$cur") $(compgen -f -- "$cur"))
        return ;;
    --trace)
        COMPREPLY=($(compgen -W "help $("$tool" --trace help 2>/dev/null)" -- "$cur"))
        return ;;
    --log-level) # spdlog's level names (tools/common/logging.h)
        COMPREPLY=($(compgen -W "trace debug info warn error critical off" -- "$cur"))
        return ;;
    --vfio-user)
        COMPREPLY=($(compgen -W "type1 iommufd-compat iommufd" -- "$cur"))
        return ;;
    --workload)
        COMPREPLY=($(compgen -W "help $(viommu-boot --workload help 2>/dev/null | grep -o '^[a-z0-9-]*:' | tr -d :)" -- "$cur"))
        return ;;
    --batch | --out | --cache | --record | --recording)
        COMPREPLY=($(compgen -d -- "$cur"))
        return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$("$tool" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _viommu viommu-boot viommu-replay viommu-truth viommu-bench
