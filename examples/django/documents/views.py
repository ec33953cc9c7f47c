from django.shortcuts import redirect, render

from .forms import DocumentForm
from .models import Document


def index(request):
    if request.method == 'POST':
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            form.save()
            return redirect('documents:index')
    else:
        form = DocumentForm()
    return render(request, 'documents/index.html', {
        'form': form,
        'documents': Document.objects.all(),
    })
